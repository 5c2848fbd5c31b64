package catalog

import "context"

// weightFAQ ranks a match in a published FAQ question below the matter's
// own words: the FAQ says what citizens asked, not what the matter is.
const weightFAQ = 30

// SearchText returns extra text, by matter code, that search finds a
// matter by: the questions of its published FAQs (常见问题, package
// consult). It is read on every rebuild of the index.
type SearchText func(ctx context.Context) (map[string][]string, error)

// SetSearchText installs the source of extra search text; call it before
// the first Refresh. The catalog keeps no FAQ itself: consultation owns
// them, and search only needs their words.
func (s *Service) SetSearchText(f SearchText) {
	s.rebuild.Lock()
	s.extra = f
	s.rebuild.Unlock()
}

// addText adds the extra text of each matter as fields, in words, full
// pinyin and initials like the matter's own.
func (idx *index) addText(byMatter map[string][]string) {
	if len(byMatter) == 0 {
		return
	}
	rc := newReadingCache()
	for i := range idx.entries {
		e := &idx.entries[i]
		for _, t := range byMatter[e.matter.Code] {
			e.fields = append(e.fields, prepareField(t, weightFAQ, rc))
		}
	}
}
