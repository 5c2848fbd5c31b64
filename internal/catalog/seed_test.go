package catalog_test

import (
	"testing"

	"github.com/banhao/banhao/assets"
	"github.com/banhao/banhao/internal/catalog"
)

func TestDemoCatalogIsValid(t *testing.T) {
	b, err := assets.FS.ReadFile("catalog/demo.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := catalog.ParseSeedBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Matters) < 40 {
		t.Errorf("demo catalog has %d matters, want at least 40", len(d.Matters))
	}
	perSector := map[string]int{}
	for _, m := range d.Matters {
		perSector[m.Sector]++
	}
	if len(perSector) < 11 {
		t.Errorf("demo matters cover %d sectors, want all 11: %v", len(perSector), perSector)
	}
}
