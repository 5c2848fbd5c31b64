package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
)

// Backup writes a consistent copy of the database at path to dest, which
// must not exist, while other connections (a serving banhao) go on
// reading and writing: VACUUM INTO reads one snapshot of the database in
// a read transaction, which in WAL mode blocks no writer, and writes a
// compact copy without a WAL.
func Backup(ctx context.Context, path, dest string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("sqlite: backup: %s exists already", dest)
	}
	db, err := sql.Open("sqlite", dsn(path, []string{"busy_timeout(10000)"}))
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		os.Remove(dest)
		return fmt.Errorf("sqlite: backup to %s: %w", dest, err)
	}
	return nil
}

// Check opens the database file at path read-only and returns its schema
// version after an integrity check; a file that is no banhao database, is
// damaged or is newer than this program is an error. A restore checks a
// backup with it before putting it in place.
func Check(ctx context.Context, path string) (int, error) {
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("sqlite: check: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(path, []string{"query_only(1)"}, "mode=ro"))
	if err != nil {
		return 0, fmt.Errorf("sqlite: check: %w", err)
	}
	defer db.Close()
	var result string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&result); err != nil {
		return 0, fmt.Errorf("sqlite: check %s: %w", path, err)
	}
	if result != "ok" {
		return 0, fmt.Errorf("sqlite: %s is damaged: %s", path, strings.TrimSpace(result))
	}
	var version int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return 0, fmt.Errorf("sqlite: check %s: %w", path, err)
	}
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('matters', 'tickets', 'staff')`).Scan(&tables); err != nil {
		return 0, fmt.Errorf("sqlite: check %s: %w", path, err)
	}
	if version == 0 || tables == 0 {
		return 0, fmt.Errorf("sqlite: %s is not a banhao database", path)
	}
	if version > len(migrations) {
		return 0, fmt.Errorf("sqlite: %s has schema version %d, newer than this program (%d): upgrade banhao first", path, version, len(migrations))
	}
	return version, nil
}
