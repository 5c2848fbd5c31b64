package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; the database's user_version counts how
// many have run. Never edit one that has shipped: append a new one.
var migrations = []string{
	// 1: the service catalog.
	`CREATE TABLE centers (
		code TEXT PRIMARY KEY,
		doc  TEXT NOT NULL
	);
	CREATE TABLE sectors (
		center TEXT NOT NULL,
		code   TEXT NOT NULL,
		ord    INTEGER NOT NULL,
		doc    TEXT NOT NULL,
		PRIMARY KEY (center, code)
	);
	CREATE TABLE matters (
		code     TEXT PRIMARY KEY,
		center   TEXT NOT NULL,
		sector   TEXT NOT NULL,
		kind     TEXT NOT NULL,
		status   TEXT NOT NULL,
		channels TEXT NOT NULL,
		version  INTEGER NOT NULL,
		doc      TEXT NOT NULL
	);
	CREATE INDEX matters_by_center ON matters (center, sector, code);
	CREATE TABLE matter_versions (
		code    TEXT NOT NULL,
		version INTEGER NOT NULL,
		doc     TEXT NOT NULL,
		PRIMARY KEY (code, version)
	);`,
}

func migrate(ctx context.Context, db *sql.DB) error {
	var have int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("sqlite: read schema version: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("sqlite: database schema version %d is newer than this program (%d): upgrade banhao", have, len(migrations))
	}
	for v := have; v < len(migrations); v++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: migrate to %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migrate to %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migrate to %d: %w", v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: migrate to %d: %w", v+1, err)
		}
	}
	return nil
}
