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
	// 2: staff accounts, sessions and the append-only audit log. Times are
	// Unix milliseconds; 0 means unset.
	`CREATE TABLE staff (
		id                  TEXT PRIMARY KEY,
		center              TEXT NOT NULL,
		username            TEXT NOT NULL UNIQUE,
		name                TEXT NOT NULL,
		roles               TEXT NOT NULL,
		sectors             TEXT NOT NULL,
		password_hash       TEXT NOT NULL,
		disabled            INTEGER NOT NULL DEFAULT 0,
		failed_logins       INTEGER NOT NULL DEFAULT 0,
		locked_until        INTEGER NOT NULL DEFAULT 0,
		password_changed_at INTEGER NOT NULL,
		created_at          INTEGER NOT NULL
	);
	CREATE INDEX staff_by_center ON staff (center, username);
	CREATE TABLE sessions (
		id         TEXT PRIMARY KEY,
		kind       TEXT NOT NULL,
		subject    TEXT NOT NULL,
		center     TEXT NOT NULL,
		csrf       TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		last_seen  INTEGER NOT NULL,
		expires_at INTEGER NOT NULL,
		revoked_at INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX sessions_by_subject ON sessions (kind, subject);
	CREATE TABLE audit (
		id      TEXT PRIMARY KEY,
		at      INTEGER NOT NULL,
		actor   TEXT NOT NULL,
		role    TEXT NOT NULL,
		center  TEXT NOT NULL,
		action  TEXT NOT NULL,
		subject TEXT NOT NULL,
		target  TEXT NOT NULL,
		purpose TEXT NOT NULL,
		outcome TEXT NOT NULL,
		ip      TEXT NOT NULL,
		kiosk   TEXT NOT NULL
	);
	CREATE INDEX audit_by_subject ON audit (subject, id);
	CREATE INDEX audit_by_actor ON audit (actor, id);
	CREATE INDEX audit_by_center ON audit (center, id);
	CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
	CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;`,
	// 3: citizens of the mini-program. Personal data only sealed; the
	// unique id_index makes "one ID number, one account" atomic.
	`CREATE TABLE citizens (
		id           TEXT PRIMARY KEY,
		open_id      TEXT NOT NULL UNIQUE,
		union_id     TEXT NOT NULL,
		name_sealed  TEXT NOT NULL,
		id_sealed    TEXT NOT NULL,
		phone_sealed TEXT NOT NULL,
		id_index     TEXT NOT NULL UNIQUE,
		phone_index  TEXT NOT NULL,
		bound_at     INTEGER NOT NULL,
		created_at   INTEGER NOT NULL
	);
	CREATE INDEX citizens_by_phone ON citizens (phone_index);`,
	// 4: kiosks, their request nonces, and card sessions bound to a kiosk.
	`ALTER TABLE sessions ADD COLUMN kiosk TEXT NOT NULL DEFAULT '';
	ALTER TABLE sessions ADD COLUMN sealed TEXT NOT NULL DEFAULT '';
	CREATE TABLE kiosks (
		id             TEXT PRIMARY KEY,
		center         TEXT NOT NULL,
		location       TEXT NOT NULL,
		card_reader    INTEGER NOT NULL,
		printer        INTEGER NOT NULL,
		secret_sealed  TEXT NOT NULL,
		revoked_at     INTEGER NOT NULL DEFAULT 0,
		created_at     INTEGER NOT NULL,
		last_seen      INTEGER NOT NULL DEFAULT 0,
		printer_status TEXT NOT NULL DEFAULT '',
		reader_status  TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX kiosks_by_center ON kiosks (center, id);
	CREATE TABLE kiosk_nonces (
		kiosk TEXT NOT NULL,
		nonce TEXT NOT NULL,
		at    INTEGER NOT NULL,
		PRIMARY KEY (kiosk, nonce)
	);
	CREATE INDEX kiosk_nonces_by_time ON kiosk_nonces (at);`,
	// 5: couriers are accounts with the courier role and a company.
	`ALTER TABLE staff ADD COLUMN company TEXT NOT NULL DEFAULT '';`,
	// 6: the queue: windows, tickets and their per-day counters.
	`CREATE TABLE windows (
		id         TEXT PRIMARY KEY,
		center     TEXT NOT NULL,
		name       TEXT NOT NULL,
		sectors    TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		UNIQUE (center, name)
	);
	CREATE TABLE ticket_counters (
		center TEXT NOT NULL,
		sector TEXT NOT NULL,
		day    TEXT NOT NULL,
		seq    INTEGER NOT NULL,
		PRIMARY KEY (center, sector, day)
	);
	CREATE TABLE tickets (
		id        TEXT PRIMARY KEY,
		center    TEXT NOT NULL,
		sector    TEXT NOT NULL,
		-- a transfer moves a ticket to another sector with its number, so
		-- numbers are unique within the sector they were taken in
		taken_sector TEXT NOT NULL,
		day       TEXT NOT NULL,
		seq       INTEGER NOT NULL,
		number    TEXT NOT NULL,
		channel   TEXT NOT NULL,
		holder    TEXT NOT NULL,
		priority  TEXT NOT NULL,
		rank      INTEGER NOT NULL,
		status    TEXT NOT NULL,
		taken_at  INTEGER NOT NULL,
		called_at INTEGER NOT NULL,
		window    TEXT NOT NULL,
		calls     INTEGER NOT NULL,
		UNIQUE (center, taken_sector, day, seq)
	);
	CREATE INDEX tickets_waiting ON tickets (center, day, status, rank, taken_at);
	CREATE INDEX tickets_ahead ON tickets (center, sector, day, status, rank, taken_at);
	CREATE INDEX tickets_by_holder ON tickets (center, sector, day, holder);`,
	// 7: appointments (预约) and the places taken in each slot.
	`CREATE TABLE slots (
		center   TEXT NOT NULL,
		sector   TEXT NOT NULL,
		day      TEXT NOT NULL,
		start_at INTEGER NOT NULL,
		booked   INTEGER NOT NULL DEFAULT 0,
		capacity INTEGER NOT NULL DEFAULT 0, -- 0: the default applies
		PRIMARY KEY (center, sector, start_at)
	);
	CREATE INDEX slots_by_day ON slots (center, sector, day, start_at);
	CREATE TABLE appointments (
		id            TEXT PRIMARY KEY,
		center        TEXT NOT NULL,
		sector        TEXT NOT NULL,
		day           TEXT NOT NULL,
		start_at      INTEGER NOT NULL,
		end_at        INTEGER NOT NULL,
		holder        TEXT NOT NULL,
		citizen       TEXT NOT NULL,
		status        TEXT NOT NULL,
		booked_at     INTEGER NOT NULL,
		cancelled_at  INTEGER NOT NULL DEFAULT 0,
		checked_in_at INTEGER NOT NULL DEFAULT 0,
		ticket        TEXT NOT NULL DEFAULT '',
		replaced_by   TEXT NOT NULL DEFAULT ''
	);
	-- one booking per ID number, sector and day, enforced by the database
	CREATE UNIQUE INDEX appointments_one_per_day ON appointments (center, sector, day, holder)
		WHERE status IN ('booked', 'checked_in');
	CREATE INDEX appointments_by_holder ON appointments (holder, day, start_at);
	CREATE INDEX appointments_by_status ON appointments (status, start_at);`,
	// 8: the notification outbox.
	`CREATE TABLE outbox (
		id           TEXT PRIMARY KEY,
		recipient    TEXT NOT NULL,
		kind         TEXT NOT NULL,
		data         TEXT NOT NULL,
		page         TEXT NOT NULL,
		not_before   INTEGER NOT NULL,
		created_at   INTEGER NOT NULL,
		status       TEXT NOT NULL,
		attempts     INTEGER NOT NULL DEFAULT 0,
		next_attempt INTEGER NOT NULL,
		last_error   TEXT NOT NULL DEFAULT '',
		sent_at      INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX outbox_due ON outbox (status, next_attempt);`,
	// 9: the clerk signed in to a window, and when a ticket's service
	// ended (for learned service times).
	`ALTER TABLE windows ADD COLUMN staff TEXT NOT NULL DEFAULT '';
	ALTER TABLE windows ADD COLUMN opened_at INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE tickets ADD COLUMN finished_at INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE tickets ADD COLUMN reactivated INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE tickets ADD COLUMN declared TEXT NOT NULL DEFAULT '';
	ALTER TABLE tickets ADD COLUMN matters TEXT NOT NULL DEFAULT '[]';
	CREATE INDEX tickets_finished ON tickets (center, sector, finished_at) WHERE status = 'done';
	-- ClaimNext's starvation check: the oldest waiting ticket, found at once
	CREATE INDEX tickets_oldest ON tickets (center, day, status, taken_at, seq);
	-- One active ticket per holder, sector and day, kept by the database
	-- itself, for takes, transfers and re-activations alike. A duplicate
	-- left by the transfer race of earlier versions keeps its first ticket.
	UPDATE tickets SET status = 'missed' WHERE holder <> '' AND status IN ('waiting', 'called', 'parked')
		AND rowid NOT IN (SELECT min(rowid) FROM tickets WHERE holder <> '' AND status IN ('waiting', 'called', 'parked')
			GROUP BY center, sector, day, holder);
	DROP INDEX tickets_by_holder;
	CREATE UNIQUE INDEX tickets_one_active ON tickets (center, sector, day, holder)
		WHERE holder <> '' AND status IN ('waiting', 'called', 'parked');`,
	// 10: the working-day calendars administrators edit: every version of
	// each year's document; the current one is the highest.
	`CREATE TABLE calendar_versions (
		year       INTEGER NOT NULL,
		version    INTEGER NOT NULL,
		doc        TEXT NOT NULL,
		updated_at INTEGER NOT NULL,
		updated_by TEXT NOT NULL,
		PRIMARY KEY (year, version)
	);`,
	// 11: cases, one JSON document each; the columns beside doc are copies
	// of its fields for lookups and list orders, written together with it.
	// Times are Unix milliseconds in UTC; due_at 0 means no due time yet.
	`CREATE TABLE cases (
		id         TEXT PRIMARY KEY,
		number     TEXT NOT NULL UNIQUE,
		applicant  TEXT NOT NULL,
		center     TEXT NOT NULL,
		sector     TEXT NOT NULL,
		state      TEXT NOT NULL,
		green      INTEGER NOT NULL,
		due_at     INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		rev        INTEGER NOT NULL,
		doc        TEXT NOT NULL
	);
	-- a citizen's cases, newest first
	CREATE INDEX cases_by_applicant ON cases (applicant, created_at DESC, id DESC);
	-- worklists and the supervision board: green channel first, then by deadline
	CREATE INDEX cases_by_deadline ON cases (center, state, green DESC, due_at, id);`,
	// 12: the e-certificate library (电子证照库). The number and the
	// holder's name are sealed; the unique number_index (a blind index of
	// type and number) makes importing a certificate again update it.
	// Times are Unix milliseconds; valid_until 0 means no expiry (长期),
	// revoked_at 0 not revoked.
	`CREATE TABLE certificates (
		id                 TEXT PRIMARY KEY,
		type               TEXT NOT NULL,
		holder             TEXT NOT NULL,
		number_sealed      TEXT NOT NULL,
		number_masked      TEXT NOT NULL,
		number_index       TEXT NOT NULL UNIQUE,
		holder_name_sealed TEXT NOT NULL,
		issuer             TEXT NOT NULL,
		issued_on          INTEGER NOT NULL,
		valid_until        INTEGER NOT NULL,
		status             TEXT NOT NULL,
		revoked_at         INTEGER NOT NULL,
		source             TEXT NOT NULL,
		created_at         INTEGER NOT NULL,
		updated_at         INTEGER NOT NULL,
		revoked_by         TEXT NOT NULL DEFAULT '',
		revoke_reason      TEXT NOT NULL DEFAULT '',
		title              TEXT NOT NULL DEFAULT '',
		matter             TEXT NOT NULL DEFAULT '',
		case_id            TEXT NOT NULL DEFAULT '',
		case_number        TEXT NOT NULL DEFAULT ''
	);
	-- a holder's certificates, by type then newest issued first
	CREATE INDEX certificates_by_holder ON certificates (holder, type, issued_on DESC, id DESC);`,
	// 13: the metadata of uploaded files (FileStore); the bytes are files
	// under the data folder's files/, never blobs here, so that a large
	// upload does not hold the one writer. stored_at is Unix milliseconds.
	`CREATE TABLE files (
		id           TEXT PRIMARY KEY,
		size         INTEGER NOT NULL,
		sha256       TEXT NOT NULL,
		content_type TEXT NOT NULL,
		stored_at    INTEGER NOT NULL
	);`,
	// 14: the print record of each e-certificate (kiosk self-print): every
	// job, whether the original is out, the copies approved, as one JSON
	// document changed by conditional updates on rev.
	`CREATE TABLE print_records (
		certificate TEXT PRIMARY KEY,
		rev         INTEGER NOT NULL,
		doc         TEXT NOT NULL
	);`,
	// 15: the parcels of 证照免费寄送, one JSON document each; the
	// columns beside doc are copies for lookups and lists. case_id is
	// unique: one parcel per case.
	`CREATE TABLE parcels (
		id      TEXT PRIMARY KEY,
		case_id TEXT NOT NULL UNIQUE,
		center  TEXT NOT NULL,
		courier TEXT NOT NULL,
		status  TEXT NOT NULL,
		alert   INTEGER NOT NULL,
		rev     INTEGER NOT NULL,
		doc     TEXT NOT NULL
	);
	-- the 出件 window's list and a courier's list, newest first
	CREATE INDEX parcels_by_center ON parcels (center, id DESC);
	CREATE INDEX parcels_by_courier ON parcels (courier, id DESC);
	-- the retry of parcels waiting for their booking
	CREATE INDEX parcels_by_status ON parcels (status, id DESC);`,
	// 16: 好差评: evaluations, one per service event ((event_kind,
	// event_id) unique, so concurrent ratings of one event store one), and
	// the rectification task of each bad review (evaluation unique); one
	// JSON document each, changed by conditional updates on rev.
	`CREATE TABLE evaluations (
		id         TEXT PRIMARY KEY,
		event_kind TEXT NOT NULL,
		event_id   TEXT NOT NULL,
		holder     TEXT NOT NULL,
		center     TEXT NOT NULL,
		sector     TEXT NOT NULL,
		at         INTEGER NOT NULL,
		rev        INTEGER NOT NULL,
		doc        TEXT NOT NULL,
		UNIQUE (event_kind, event_id)
	);
	CREATE INDEX evaluations_by_holder ON evaluations (holder, at DESC);
	CREATE INDEX evaluations_by_center ON evaluations (center, sector, at DESC);
	CREATE TABLE rectifications (
		id         TEXT PRIMARY KEY,
		evaluation TEXT NOT NULL UNIQUE,
		center     TEXT NOT NULL,
		sector     TEXT NOT NULL,
		state      TEXT NOT NULL,
		due_at     INTEGER NOT NULL,
		rev        INTEGER NOT NULL,
		doc        TEXT NOT NULL
	);
	CREATE INDEX rectifications_by_center ON rectifications (center, sector, due_at);
	CREATE INDEX rectifications_by_state ON rectifications (state, due_at);`,
	// 17: 网上咨询 threads and their published FAQs, and 投诉 complaints;
	// one JSON document each, changed by conditional updates on rev.
	`CREATE TABLE consultations (
		id         TEXT PRIMARY KEY,
		holder     TEXT NOT NULL,
		citizen    TEXT NOT NULL,
		center     TEXT NOT NULL,
		sector     TEXT NOT NULL,
		state      TEXT NOT NULL,
		due_at     INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		rev        INTEGER NOT NULL,
		doc        TEXT NOT NULL
	);
	CREATE INDEX consultations_by_holder ON consultations (holder, created_at DESC);
	CREATE INDEX consultations_by_citizen ON consultations (citizen, created_at DESC);
	CREATE INDEX consultations_by_center ON consultations (center, state, due_at);
	CREATE INDEX consultations_by_state ON consultations (state, updated_at);
	CREATE TABLE consult_faqs (
		id     TEXT PRIMARY KEY,
		matter TEXT NOT NULL,
		at     INTEGER NOT NULL,
		doc    TEXT NOT NULL
	);
	CREATE INDEX consult_faqs_by_matter ON consult_faqs (matter, at);
	CREATE TABLE complaints (
		id         TEXT PRIMARY KEY,
		holder     TEXT NOT NULL,
		citizen    TEXT NOT NULL,
		center     TEXT NOT NULL,
		sector     TEXT NOT NULL,
		state      TEXT NOT NULL,
		due_at     INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		rev        INTEGER NOT NULL,
		doc        TEXT NOT NULL
	);
	CREATE INDEX complaints_by_holder ON complaints (holder, created_at DESC);
	CREATE INDEX complaints_by_citizen ON complaints (citizen, created_at DESC);
	CREATE INDEX complaints_by_center ON complaints (center, state, due_at);`,
	// 18: 周抽查 marks: a supervisor's last verdict on each sampled item.
	`CREATE TABLE spot_check_marks (
		center   TEXT NOT NULL,
		week     TEXT NOT NULL,
		kind     TEXT NOT NULL,
		item     TEXT NOT NULL,
		verdict  TEXT NOT NULL,
		note     TEXT NOT NULL,
		by_staff TEXT NOT NULL,
		at       INTEGER NOT NULL,
		PRIMARY KEY (center, week, kind, item)
	) WITHOUT ROWID;`,
	// 19: Idempotency-Key records: a claimed key pending while its request
	// runs, then the response to replay; swept after a day.
	`CREATE TABLE idempotency_keys (
		id           TEXT PRIMARY KEY,
		fingerprint  TEXT NOT NULL,
		done         INTEGER NOT NULL,
		status       INTEGER NOT NULL,
		content_type TEXT NOT NULL,
		body         BLOB,
		created_ms   INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE INDEX idempotency_keys_by_created ON idempotency_keys (created_ms);`,
	// 20: a holder's served tickets, latest first, for the ones they may
	// still rate (好差评's 待评价 list).
	`CREATE INDEX tickets_served_by_holder ON tickets (holder, finished_at DESC) WHERE status = 'done';`,
	// 21: when each case last changed, for the notifications recovered at
	// start (cases.Filter.UpdatedAfter); older rows take it from their
	// document (RFC 3339 in UTC).
	`ALTER TABLE cases ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
	UPDATE cases SET updated_at = CAST(round((julianday(json_extract(doc, '$.updated_at')) - 2440587.5) * 86400000) AS INTEGER)
		WHERE json_extract(doc, '$.updated_at') IS NOT NULL;
	CREATE INDEX cases_by_updated ON cases (updated_at);`,
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
