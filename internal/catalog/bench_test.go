package catalog

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/banhao/banhao/assets"
)

// thousandMatters returns 1,000 matters made from the demo catalog's guides
// with numbered names, the size of a county's published list.
func thousandMatters(tb testing.TB) ([]Matter, map[string]string) {
	b, err := assets.FS.ReadFile("catalog/demo.json")
	if err != nil {
		tb.Fatal(err)
	}
	d, err := ParseSeedBytes(b)
	if err != nil {
		tb.Fatal(err)
	}
	names := map[string]string{}
	for _, s := range d.Sectors {
		names[s.Center+"/"+s.Code] = s.Name
	}
	out := make([]Matter, 0, 1000)
	for i := 0; len(out) < 1000; i++ {
		m := d.Matters[i%len(d.Matters)]
		m.Code = fmt.Sprintf("%s-%d", m.Code, i)
		if i >= len(d.Matters) {
			m.Name = fmt.Sprintf("%s（第%d类）", m.Name, i/len(d.Matters))
		}
		out = append(out, m)
	}
	return out, names
}

var benchQueries = []string{"gjj", "营业执照", "zhufanggongjijin", "bdc", "护照", "sbk", "社会保障", "qykb", "12345", "xyzq", "不动产 转移", "shigongxuke"}

// BenchmarkSearch1000 searches 1,000 matters with a mix of initials, full
// pinyin and Chinese words, and reports the 99th percentile latency.
func BenchmarkSearch1000(b *testing.B) {
	ms, names := thousandMatters(b)
	idx := buildIndex(ms, names)
	all := func(*Matter) bool { return true }
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := benchQueries[i%len(benchQueries)]
		start := time.Now()
		idx.search(normalizeQuery(q), all)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkBuildIndex1000 measures rebuilding the index after an edit.
func BenchmarkBuildIndex1000(b *testing.B) {
	ms, names := thousandMatters(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buildIndex(ms, names)
	}
}

func FuzzValidateMatter(f *testing.F) {
	// Small seeds: the fuzzer mutates and minimises kilobyte-sized guides
	// too slowly to explore.
	f.Add([]byte(`{"code":"hm-a","center":"hm","sector":"tax","name":"发票领用","kind":"administrative_permit","authority":"税务局","legal_basis":["条例"],"materials":[{"name":"身份证","originals":1,"required":true}],"steps":[{"name":"受理"}],"statutory_days":5,"promised_days":1,"fee_standard":"不收费","consult_phone":"12366","complaint_phone":"12345","visits":0,"channels":["online"],"delivery":["express"],"status":"active"}`))
	f.Add([]byte(`{"code":"a","materials":[{"name":"x","pendable":true}]}`))
	f.Add([]byte(`{"promised_days":9,"statutory_days":3,"visits":2,"fee_fen":-1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Matter
		if json.Unmarshal(data, &m) != nil {
			return
		}
		if m.Validate() != nil {
			return
		}
		// A guide the validator accepts must keep the rules citizens rely on.
		if m.StatutoryDays > 0 && m.PromisedDays > m.StatutoryDays {
			t.Fatalf("accepted promised %d > statutory %d", m.PromisedDays, m.StatutoryDays)
		}
		if m.FeeFen < 0 || (m.Visits != 0 && m.Visits != 1) || len(m.Channels) == 0 || len(m.Steps) == 0 {
			t.Fatalf("accepted an incomplete guide: %+v", m)
		}
		for _, mat := range m.Materials {
			if mat.Pendable && !mat.Required {
				t.Fatalf("accepted an optional pendable material %q", mat.Name)
			}
		}
		if !ValidCode(m.Code) || m.Kind.Label() == "" {
			t.Fatalf("accepted code %q kind %q", m.Code, m.Kind)
		}
	})
}
