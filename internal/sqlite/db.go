// Package sqlite is the embedded default store: every business area's store
// interface implemented on one SQLite file (modernc.org/sqlite, no cgo).
//
// Writes go through one connection and are group-committed: concurrent
// write requests share one transaction, each isolated in a savepoint so that
// a failing request undoes only its own changes, and each caller is answered
// only after the shared commit. Reads use a separate pool of read-only
// connections, which WAL lets run beside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Config tells Open where the database lives and how durable writes are.
type Config struct {
	// Path is the database file; its folder is created if missing.
	Path string
	// Synchronous is SQLite's synchronous level in WAL mode: "FULL" (the
	// default: an acknowledged write survives a power cut) or "NORMAL"
	// (faster; the last transactions may be lost on power loss, never
	// corrupted).
	Synchronous string
	// ReadConns is the size of the read pool; 0 means the number of CPUs, at least 4.
	ReadConns int
	// MaxBatch caps how many writes share one transaction; 0 means 256.
	MaxBatch int
	// BusyTimeout is how long a statement waits for a lock another
	// process holds before it fails as unavailable; 0 means 10 s.
	BusyTimeout time.Duration
}

// DB is an open banhao database.
type DB struct {
	write *sql.DB
	read  *sql.DB

	reqs      chan *writeReq
	stop      chan struct{}
	stopped   chan struct{}
	closeOnce sync.Once
	maxBatch  int
	dir       string // the folder of the database file
	// writeDown is set while writes fail as unavailable (the file locked
	// by another process, I/O errors, a full disk), and cleared by the
	// next batch that commits cleanly; Ping then probes the writer.
	writeDown atomic.Bool
	probing   atomic.Bool // a probeWriter is running

	// stmts caches prepared read statements by their text (string to
	// *sql.Stmt): SQLite would otherwise parse and plan every query anew.
	stmts sync.Map
	// writeStmts are the write connection's prepared statements by their
	// text; only the writer goroutine uses it, and toPrepare, the texts
	// run unprepared in the current batch, prepared once it committed.
	writeStmts map[string]*sql.Stmt
	toPrepare  []string
}

// maxWriteStmts caps the prepared write statements (a query built with a
// varying number of placeholders is one text per count).
const maxWriteStmts = 512

type writeReq struct {
	ctx  context.Context
	fn   func(*Tx) error
	errc chan error
}

// Tx is the transaction a write function runs in. Its methods use the
// writer's own context: a write that has started is finished or undone as a
// whole, never cut off half-way by a caller's timeout.
type Tx struct {
	tx *sql.Tx
	db *DB
}

// stmt returns query's statement prepared on the write connection, bound
// to this transaction, or nil the first time query is seen (it is then
// prepared after the batch commits: the one connection is busy until then).
func (t *Tx) stmt(query string) *sql.Stmt {
	if st, ok := t.db.writeStmts[query]; ok {
		return t.tx.Stmt(st)
	}
	if len(t.db.writeStmts)+len(t.db.toPrepare) < maxWriteStmts && !slices.Contains(t.db.toPrepare, query) {
		t.db.toPrepare = append(t.db.toPrepare, query)
	}
	return nil
}

// Exec runs a statement.
func (t *Tx) Exec(query string, args ...any) (sql.Result, error) {
	if st := t.stmt(query); st != nil {
		return st.Exec(args...)
	}
	return t.tx.ExecContext(context.Background(), query, args...)
}

// QueryRow runs a query that returns at most one row.
func (t *Tx) QueryRow(query string, args ...any) *sql.Row {
	if st := t.stmt(query); st != nil {
		return st.QueryRow(args...)
	}
	return t.tx.QueryRowContext(context.Background(), query, args...)
}

// Query runs a query.
func (t *Tx) Query(query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(query); st != nil {
		return st.Query(args...)
	}
	return t.tx.QueryContext(context.Background(), query, args...)
}

// prepareWrites prepares the statements the last batch ran unprepared;
// the writer calls it between batches, when the connection is free. A
// statement that fails to prepare simply stays unprepared.
func (db *DB) prepareWrites() {
	for _, q := range db.toPrepare {
		if st, err := db.write.Prepare(q); err == nil {
			db.writeStmts[q] = st
		}
	}
	db.toPrepare = db.toPrepare[:0]
}

// Open opens (creating if needed) and migrates the database at cfg.Path.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	level := strings.ToUpper(cfg.Synchronous)
	switch level {
	case "":
		level = "FULL"
	case "FULL", "NORMAL", "EXTRA":
	default:
		return nil, fmt.Errorf("sqlite: synchronous must be FULL, NORMAL or EXTRA, not %q", cfg.Synchronous)
	}
	if cfg.Path == "" {
		return nil, errors.New("sqlite: no database path")
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create data folder: %w", err)
	}
	readConns := cfg.ReadConns
	if readConns == 0 {
		readConns = max(4, runtime.NumCPU())
	}
	db := &DB{
		reqs:       make(chan *writeReq),
		writeStmts: map[string]*sql.Stmt{},
		stop:       make(chan struct{}),
		stopped:    make(chan struct{}),
		maxBatch:   cfg.MaxBatch,
		dir:        filepath.Dir(cfg.Path),
	}
	if db.maxBatch <= 0 {
		db.maxBatch = 256
	}
	// Every connection sets synchronous explicitly: drivers differ in their
	// default in WAL mode. No ANALYZE is ever run: with STAT4 statistics
	// modernc re-plans indexed queries on every execution.
	busy := cfg.BusyTimeout
	if busy <= 0 {
		busy = 10 * time.Second
	}
	pragmas := []string{fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()), "journal_mode(WAL)", "synchronous(" + level + ")", "foreign_keys(1)"}
	var err error
	if db.write, err = sql.Open("sqlite", dsn(cfg.Path, pragmas, "_txlock=immediate")); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)
	if err := migrate(ctx, db.write); err != nil {
		db.write.Close()
		return nil, err
	}
	if db.read, err = sql.Open("sqlite", dsn(cfg.Path, append(pragmas, "query_only(1)"))); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db.read.SetMaxOpenConns(readConns)
	db.read.SetMaxIdleConns(readConns)
	go db.writer()
	return db, nil
}

func dsn(path string, pragmas []string, extra ...string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	s := "file:" + path + "?" + q.Encode()
	for _, e := range extra {
		s += "&" + e
	}
	return s
}

// Dir returns the folder that holds the database file, where stores
// keep what does not belong in it (uploaded files).
func (db *DB) Dir() string { return db.dir }

// Ping checks that the database answers. While writes are failing as
// unavailable it fails too, and probes the writer with an empty
// transaction, so that readiness fails while the store cannot write and
// recovers by itself once it can.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if db.writeDown.Load() {
		db.probeWriter()
		return errWritesFailing
	}
	return nil
}

// errWritesFailing is Ping's answer while writes fail as unavailable.
var errWritesFailing = errors.New("sqlite: writes are failing")

// probeWriter starts, unless one is running, an empty write in the
// background: it waits for the write lock (up to the busy timeout, which
// no context shortens) and, once it commits, clears writeDown. Ping does
// not wait for it, so that a readiness check answers at once.
func (db *DB) probeWriter() {
	if !db.probing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer db.probing.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = db.Write(ctx, func(*Tx) error { return nil })
	}()
}

// Close finishes the writes under way and closes the database.
func (db *DB) Close() error {
	var err error
	db.closeOnce.Do(func() {
		close(db.stop)
		<-db.stopped
		db.stmts.Range(func(_, v any) bool {
			v.(*sql.Stmt).Close()
			return true
		})
		for _, st := range db.writeStmts { // the writer has stopped
			st.Close()
		}
		err = errors.Join(db.read.Close(), db.write.Close())
	})
	return err
}

// readStmt returns the prepared read statement for query, preparing it on
// first use. Queries must not embed values, only placeholders, so that the
// cache stays small.
func (db *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := db.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// scanner is a row to scan: *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// queryAll runs a prepared read query and scans every row with scan.
func queryAll[T any](ctx context.Context, db *DB, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	st, err := db.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// queryOne runs a prepared read query for one row and scans it; no row is
// the not-found error given.
func queryOne[T any](ctx context.Context, db *DB, scan func(scanner) (T, error), notFound error, query string, args ...any) (T, error) {
	st, err := db.readStmt(ctx, query)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := scan(st.QueryRowContext(ctx, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return v, notFound
	}
	return v, err
}

// errClosed is returned by Write after Close.
var errClosed = errors.New("sqlite: database is closed")

// Write runs fn in a transaction that it may share with other concurrent
// writes, and returns fn's error or the commit's. fn runs inside its own
// savepoint: if it returns an error, only its changes are rolled back. When
// Write returns nil, the change is committed (and, with synchronous FULL,
// durable). A ctx that ends before fn starts aborts the write; once fn has
// started, Write waits for the commit so that its answer is the truth.
func (db *DB) Write(ctx context.Context, fn func(*Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, errc: make(chan error, 1)}
	select {
	case db.reqs <- req:
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// The writer did not take the write in the request's time.
			return fmt.Errorf("%w: %w", errWriterBusy, ctx.Err())
		}
		return ctx.Err()
	case <-db.stop:
		return errClosed
	}
	return <-req.errc
}

func (db *DB) writer() {
	defer close(db.stopped)
	for {
		var first *writeReq
		select {
		case first = <-db.reqs:
		case <-db.stop:
			return
		}
		batch := []*writeReq{first}
	drain:
		for len(batch) < db.maxBatch {
			select {
			case r := <-db.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		db.commit(batch)
	}
}

// answer gives a write its result, keeping note of whether writes are
// failing as unavailable (see DB.writeDown).
func (db *DB) answer(r *writeReq, err error) {
	if IsUnavailable(err) && !errors.Is(err, errWriterBusy) {
		db.writeDown.Store(true)
	}
	r.errc <- err
}

// commit runs one batch of writes in one transaction. It first runs them
// all without savepoints, which cost SQLite a third of a small write; if
// one fails, that transaction is rolled back and the batch runs again with
// a savepoint around each write, so that only the failing one is undone.
// (Writes are functions of the database alone, so running one twice is
// running it once.)
func (db *DB) commit(batch []*writeReq) {
	if db.commitOptimistic(batch) {
		return
	}
	db.commitIsolated(batch)
}

// commitOptimistic runs batch in one transaction without savepoints and
// answers every request, unless a write fails in a batch of several: then
// it rolls back and returns false, having answered nobody.
func (db *DB) commitOptimistic(batch []*writeReq) bool {
	stx, err := db.write.BeginTx(context.Background(), nil)
	if err != nil {
		for _, r := range batch {
			db.answer(r, fmt.Errorf("sqlite: begin: %w", err))
		}
		return true
	}
	tx := &Tx{tx: stx, db: db}
	defer db.prepareWrites()
	errs := make([]error, len(batch))
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if errs[i] = runIsolated(r.fn, tx); errs[i] != nil {
			stx.Rollback()
			if len(batch) == 1 {
				db.answer(r, errs[i])
				return true
			}
			return false
		}
	}
	err = stx.Commit()
	if err == nil && !slices.ContainsFunc(errs, IsUnavailable) {
		db.writeDown.Store(false)
	}
	for i, r := range batch {
		switch {
		case err != nil:
			db.answer(r, fmt.Errorf("sqlite: commit: %w", err))
		default:
			db.answer(r, errs[i])
		}
	}
	return true
}

// commitIsolated runs batch in one transaction with each write in a
// savepoint of its own.
func (db *DB) commitIsolated(batch []*writeReq) {
	errs := make([]error, len(batch))
	fail := func(err error) {
		for _, r := range batch {
			db.answer(r, err)
		}
	}
	stx, err := db.write.BeginTx(context.Background(), nil)
	if err != nil {
		fail(fmt.Errorf("sqlite: begin: %w", err))
		return
	}
	tx := &Tx{tx: stx, db: db}
	defer db.prepareWrites()
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := tx.Exec("SAVEPOINT w"); err != nil {
			errs[i] = fmt.Errorf("sqlite: savepoint: %w", err)
			continue
		}
		errs[i] = runIsolated(r.fn, tx)
		if errs[i] != nil {
			if _, err := tx.Exec("ROLLBACK TO w"); err != nil {
				// The transaction is in an unknown state: give up on all of it.
				stx.Rollback()
				fail(fmt.Errorf("sqlite: rollback to savepoint: %w", err))
				return
			}
		}
		if _, err := tx.Exec("RELEASE w"); err != nil {
			stx.Rollback()
			fail(fmt.Errorf("sqlite: release savepoint: %w", err))
			return
		}
	}
	if err := stx.Commit(); err != nil {
		fail(fmt.Errorf("sqlite: commit: %w", err))
		return
	}
	if !slices.ContainsFunc(errs, IsUnavailable) {
		db.writeDown.Store(false)
	}
	for i, r := range batch {
		db.answer(r, errs[i])
	}
}

// runIsolated runs fn, turning a panic into an error so that one bad write
// cannot take down the writer and every caller waiting on it.
func runIsolated(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlite: write panicked: %v", p)
		}
	}()
	return fn(tx)
}

// revised finishes a conditional update of one document row (… WHERE
// <key> = ? AND rev = ?): a row changed is success; none changed means
// the key is unknown (notFound) or another writer changed it first
// (changed), which a look at the key tells apart.
func revised(tx *Tx, res sql.Result, table, key, id string, notFound, changed func() error) error {
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var one int
	err := tx.QueryRow(`SELECT 1 FROM `+table+` WHERE `+key+` = ?`, id).Scan(&one)
	switch {
	case err == nil:
		return changed()
	case errors.Is(err, sql.ErrNoRows):
		return notFound()
	}
	return fmt.Errorf("sqlite: update %s %s: %w", table, id, err)
}
