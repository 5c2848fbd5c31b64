package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// SeedData is the file format of an initial catalog, such as the demo
// catalog in assets/catalog. Matters in it need no status or version: they
// are loaded as version 1, active.
type SeedData struct {
	Centers []Center `json:"centers"`
	Sectors []Sector `json:"sectors"`
	Matters []Matter `json:"matters"`
}

// ParseSeed decodes and checks a seed file: unknown fields, invalid records,
// duplicate codes and references to missing centers or sectors are errors,
// so a broken catalog file is refused before anything is written.
func ParseSeed(r io.Reader) (*SeedData, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var d SeedData
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("catalog: decode seed: %w", err)
	}
	centers := map[string]bool{}
	for i := range d.Centers {
		c := &d.Centers[i]
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("catalog: seed center %q: %w", c.Code, err)
		}
		if centers[c.Code] {
			return nil, fmt.Errorf("catalog: seed center %q twice", c.Code)
		}
		centers[c.Code] = true
	}
	for _, c := range d.Centers {
		if c.Kind == CenterTownship && !centers[c.Parent] {
			return nil, fmt.Errorf("catalog: seed center %q: unknown parent %q", c.Code, c.Parent)
		}
	}
	sectors := map[string]bool{}
	for i := range d.Sectors {
		s := &d.Sectors[i]
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("catalog: seed sector %s/%s: %w", s.Center, s.Code, err)
		}
		if !centers[s.Center] {
			return nil, fmt.Errorf("catalog: seed sector %s/%s: unknown center", s.Center, s.Code)
		}
		key := s.Center + "/" + s.Code
		if sectors[key] {
			return nil, fmt.Errorf("catalog: seed sector %s twice", key)
		}
		sectors[key] = true
	}
	matters := map[string]bool{}
	for i := range d.Matters {
		m := &d.Matters[i]
		if m.Status == "" {
			m.Status = StatusActive
		}
		m.Version = 1
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("catalog: seed matter %q: %w", m.Code, err)
		}
		if !sectors[m.Center+"/"+m.Sector] {
			return nil, fmt.Errorf("catalog: seed matter %q: unknown sector %s/%s", m.Code, m.Center, m.Sector)
		}
		if matters[m.Code] {
			return nil, fmt.Errorf("catalog: seed matter %q twice", m.Code)
		}
		matters[m.Code] = true
	}
	if dec.More() {
		return nil, fmt.Errorf("catalog: seed: trailing data after the catalog")
	}
	return &d, nil
}

// ParseSeedBytes is ParseSeed on a byte slice.
func ParseSeedBytes(b []byte) (*SeedData, error) { return ParseSeed(bytes.NewReader(b)) }
