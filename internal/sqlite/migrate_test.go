package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// TestCaseUpdatedAtBackfill: a database made before migration 21 gets
// each case's last change from its document (stamped to the millisecond),
// whatever the zone Go wrote it in, so the notifications recovered at start see
// the cases closed before the upgrade.
func TestCaseUpdatedAtBackfill(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", dsn(path, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	const before = 20 // the schema version before the column
	for v := range before {
		if _, err := raw.ExecContext(ctx, migrations[v]); err != nil {
			t.Fatalf("migration %d: %v", v+1, err)
		}
	}
	if _, err := raw.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", before)); err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{
		"c1": time.Date(2026, 11, 26, 1, 2, 3, 456_000_000, time.UTC),
		"c2": time.Date(2026, 11, 26, 9, 2, 3, 0, time.FixedZone("CST", 8*3600)),
		"c3": time.Date(2026, 11, 25, 23, 59, 59, 999_000_000, time.UTC),
	}
	for id, at := range want {
		doc := fmt.Sprintf(`{"id":%q,"updated_at":%q}`, id, at.Format(time.RFC3339Nano))
		if _, err := raw.ExecContext(ctx, `INSERT INTO cases (id, number, applicant, center, sector, state, green, due_at, created_at, rev, doc)
			VALUES (?, ?, 'id:a', 'hm', 's', 'approved', 0, 0, 0, 1, ?)`, id, "N"+id, doc); err != nil {
			t.Fatal(err)
		}
	}
	if err := migrate(ctx, raw); err != nil {
		t.Fatal(err)
	}
	for id, at := range want {
		var got int64
		if err := raw.QueryRowContext(ctx, `SELECT updated_at FROM cases WHERE id = ?`, id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != at.UnixMilli() {
			t.Errorf("%s: updated_at %d (%v), want %d (%v)", id, got, time.UnixMilli(got).UTC(), at.UnixMilli(), at.UTC())
		}
	}
}
