package catalog

import (
	"math/bits"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mozillazg/go-pinyin"
)

// MaxQueryRunes bounds a search query; anything longer is refused rather
// than scanned, since no matter name is that long.
const MaxQueryRunes = 50

// Field weights: a hit in the name counts most, then the words citizens use.
const (
	weightName      = 100
	weightKeyword   = 70
	weightResult    = 60
	weightSector    = 35
	weightAuthority = 25
)

// syllable is one rune of a field with its possible pinyin readings (all
// readings of a polyphonic character). A Latin letter or digit reads as
// itself; punctuation has no reading and may be skipped inside a match.
type syllable struct {
	readings []string
}

// field is one searchable text of a matter, prepared at index time.
type field struct {
	text   string // lower-cased
	syls   []syllable
	weight int
	// letters has a bit for every letter or digit in any reading, and
	// starts one for every first letter of a reading: a Latin query whose
	// letters are not all in letters, or whose first is not in starts,
	// cannot match, which rules out most fields without running the match.
	letters, starts uint64
}

type entry struct {
	matter Matter
	fields []field
	runes  int // length of the name, for tie-breaking
}

// index is an immutable search index over active matters; a new one is
// built whenever the catalog changes and swapped in atomically.
type index struct {
	entries []entry
	// centers are the codes of the centers known when the index was built,
	// and sectors their sectors in display order.
	centers map[string]bool
	sectors map[string][]Sector
}

// letterBit maps a-z and 0-9 to bits 0-35; other bytes to bit 63.
func letterBit(b byte) uint64 {
	switch {
	case b >= 'a' && b <= 'z':
		return 1 << (b - 'a')
	case b >= '0' && b <= '9':
		return 1 << (26 + b - '0')
	}
	return 1 << 63
}

func letterMask(s string) uint64 {
	var m uint64
	for i := 0; i < len(s); i++ {
		m |= letterBit(s[i])
	}
	return m
}

// normalizeQuery folds full-width forms to ASCII and upper to lower case and
// splits the query into terms.
func normalizeQuery(q string) []string {
	var b strings.Builder
	for _, r := range q {
		switch {
		case r == '\u3000':
			r = ' '
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		}
		b.WriteRune(unicode.ToLower(r))
	}
	terms := strings.FieldsFunc(b.String(), func(r rune) bool {
		return unicode.IsSpace(r) || r == '\'' || r == ',' || r == '，'
	})
	return terms
}

// checkQuery reports why a query cannot be searched, or "" if it can.
func checkQuery(q string) string {
	switch {
	case !utf8.ValidString(q):
		return "查询内容不是有效的文本"
	case utf8.RuneCountInString(q) > MaxQueryRunes:
		return "查询内容过长"
	}
	for _, r := range q {
		if unicode.IsControl(r) {
			return "查询内容含有控制字符"
		}
	}
	return ""
}

// readingCache keeps each character's readings while an index is built:
// looking them up is most of the build's cost and names repeat characters.
type readingCache struct {
	args pinyin.Args
	m    map[rune][]string
}

func newReadingCache() *readingCache {
	a := pinyin.NewArgs()
	a.Style = pinyin.Normal
	a.Heteronym = true
	return &readingCache{args: a, m: map[rune][]string{}}
}

func (rc *readingCache) readings(r rune) []string {
	if v, ok := rc.m[r]; ok {
		return v
	}
	v := dedupe(pinyin.SinglePinyin(r, rc.args))
	rc.m[r] = v
	return v
}

func prepareField(text string, weight int, rc *readingCache) field {
	text = strings.ToLower(text)
	f := field{text: text, weight: weight}
	for _, r := range text {
		var s syllable
		switch {
		case unicode.Is(unicode.Han, r):
			s.readings = rc.readings(r)
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			s.readings = []string{string(r)}
		}
		for _, rd := range s.readings {
			f.letters |= letterMask(rd)
			f.starts |= letterBit(rd[0])
		}
		f.syls = append(f.syls, s)
	}
	return f
}

func dedupe(ss []string) []string {
	out := ss[:0:0]
	for _, s := range ss {
		dup := false
		for _, o := range out {
			dup = dup || o == s
		}
		if !dup && s != "" {
			out = append(out, s)
		}
	}
	return out
}

func buildIndex(matters []Matter, sectorNames map[string]string) *index {
	rc := newReadingCache()
	idx := &index{entries: make([]entry, 0, len(matters)), centers: map[string]bool{}}
	for _, m := range matters {
		e := entry{matter: m, runes: utf8.RuneCountInString(m.Name)}
		e.fields = append(e.fields, prepareField(m.Name, weightName, rc))
		for _, k := range m.Keywords {
			e.fields = append(e.fields, prepareField(k, weightKeyword, rc))
		}
		if m.Result != "" {
			e.fields = append(e.fields, prepareField(m.Result, weightResult, rc))
		}
		if n := sectorNames[m.Center+"/"+m.Sector]; n != "" {
			e.fields = append(e.fields, prepareField(n, weightSector, rc))
		}
		e.fields = append(e.fields, prepareField(m.Authority, weightAuthority, rc))
		idx.entries = append(idx.entries, e)
	}
	return idx
}

// term is one query word, classified once per search.
type term struct {
	text string
	// latin terms (ASCII letters and digits only) are matched as pinyin;
	// others as substrings of the text.
	latin   bool
	letters uint64
}

func newTerm(t string) term {
	latin := len(t) <= maxPinyinQuery
	for i := 0; i < len(t) && latin; i++ {
		latin = letterBit(t[i]) != 1<<63
	}
	return term{text: t, latin: latin, letters: letterMask(t)}
}

// hit is one search result with its score.
type hit struct {
	matter *Matter
	score  int
	runes  int
}

// search returns the matters matching every term, best first. filter
// decides which matters are eligible.
func (idx *index) search(words []string, filter func(*Matter) bool) []hit {
	terms := make([]term, len(words))
	for i, w := range words {
		terms[i] = newTerm(w)
	}
	var hits []hit
	for i := range idx.entries {
		e := &idx.entries[i]
		if !filter(&e.matter) {
			continue
		}
		total := 0
		for ti := range terms {
			best := 0
			for fi := range e.fields {
				if s := scoreTerm(&terms[ti], &e.fields[fi]); s > best {
					best = s
				}
			}
			if best == 0 {
				total = 0
				break
			}
			total += best
		}
		if total > 0 {
			hits = append(hits, hit{matter: &e.matter, score: total, runes: e.runes})
		}
	}
	sort.Slice(hits, func(a, b int) bool {
		if hits[a].score != hits[b].score {
			return hits[a].score > hits[b].score
		}
		if hits[a].runes != hits[b].runes {
			return hits[a].runes < hits[b].runes
		}
		return hits[a].matter.Code < hits[b].matter.Code
	})
	return hits
}

// scoreTerm scores one query term against one field: 0 for no match, and
// more for a match at the start or of the whole field.
func scoreTerm(t *term, f *field) int {
	if !t.latin {
		switch {
		case f.text == t.text:
			return f.weight * 10
		case strings.HasPrefix(f.text, t.text):
			return f.weight * 9
		case strings.Contains(f.text, t.text):
			return f.weight * 7
		}
		return 0
	}
	if t.letters&^f.letters != 0 || f.starts&letterBit(t.text[0]) == 0 {
		return 0
	}
	switch pinyinMatch(t.text, f.syls) {
	case matchWhole:
		return f.weight * 10
	case matchPrefix:
		return f.weight * 8
	case matchInside:
		return f.weight * 6
	}
	return 0
}

type matchKind int

const (
	matchNone matchKind = iota
	matchInside
	matchPrefix
	matchWhole
)

// maxPinyinQuery is the longest term matched as pinyin: positions in the
// term are bits of a uint64.
const maxPinyinQuery = 63

// pinyinMatch matches a Latin query against a field's syllables, where each
// syllable may be typed in full ("gongjijin"), by its initial ("gjj"; "zh",
// "ch", "sh" or their first letter), or, for the last one, by any prefix
// ("gongj"); forms may be mixed ("zhufanggjj"). It is a dynamic program
// over (syllable, query position), with the positions reached before each
// syllable kept as bits, so a long query cannot blow up. Two sets run side
// by side: matches anchored at the field's start, and matches from any
// later syllable.
func pinyinMatch(q string, syls []syllable) matchKind {
	m, n := len(q), len(syls)
	if m == 0 || m > maxPinyinQuery || n == 0 {
		return matchNone
	}
	var bufA, bufU [80]uint64
	var anch, free []uint64
	if n+1 <= len(bufA) {
		anch, free = bufA[:n+1], bufU[:n+1]
	} else {
		anch, free = make([]uint64, n+1), make([]uint64, n+1)
	}
	anch[0] = 1
	for j := 1; j < n; j++ {
		if len(syls[j].readings) > 0 {
			free[j] = 1
		}
	}
	done := uint64(1) << m
	partialA, partialU := false, false
	for j := 0; j < n; j++ {
		ra, ru := anch[j]&^done, free[j]&^done
		if ra|ru == 0 {
			continue
		}
		rds := syls[j].readings
		if len(rds) == 0 {
			// Punctuation may be skipped inside a match, not at its start.
			anch[j+1] |= ra &^ 1
			free[j+1] |= ru &^ 1
			continue
		}
		for set := ra | ru; set != 0; set &= set - 1 {
			k := bits.TrailingZeros64(set)
			rest := q[k:]
			var adv uint64
			partial := false
			for _, r := range rds {
				if strings.HasPrefix(rest, r) {
					adv |= 1 << (k + len(r))
				}
				if strings.HasPrefix(r, rest) {
					partial = true
				}
				ini := initial(r)
				if strings.HasPrefix(rest, ini) {
					adv |= 1 << (k + len(ini))
				}
				if len(ini) == 2 && rest[0] == ini[0] {
					adv |= 1 << (k + 1)
				}
			}
			bit := uint64(1) << k
			if ra&bit != 0 {
				anch[j+1] |= adv
				partialA = partialA || partial
			}
			if ru&bit != 0 {
				free[j+1] |= adv
				partialU = partialU || partial
			}
		}
	}
	if anch[n]&done != 0 {
		return matchWhole
	}
	doneA, doneU := partialA, partialU
	for j := 0; j <= n; j++ {
		doneA = doneA || anch[j]&done != 0
		doneU = doneU || free[j]&done != 0
	}
	switch {
	case doneA:
		return matchPrefix
	case doneU:
		return matchInside
	}
	return matchNone
}

// initial returns the initial of a pinyin syllable: zh, ch, sh or the
// first letter.
func initial(r string) string {
	if len(r) >= 2 && r[1] == 'h' && (r[0] == 'z' || r[0] == 'c' || r[0] == 's') {
		return r[:2]
	}
	return r[:1]
}
