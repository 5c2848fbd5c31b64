package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

func openTest(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), Config{Path: filepath.Join(t.TempDir(), "t.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Write(context.Background(), func(tx *Tx) error {
		_, err := tx.Exec(`CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return db
}

func count(t testing.TB, db *DB) int {
	t.Helper()
	var n int
	if err := db.read.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A failing or panicking write in a shared batch must undo only itself.
func TestWriteBatchIsolatesFailures(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	errBad := errors.New("bad")
	var wg sync.WaitGroup
	results := make([]error, 300)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = db.Write(ctx, func(tx *Tx) error {
				if _, err := tx.Exec(`INSERT INTO t (k, v) VALUES (?, 'x')`, i); err != nil {
					return err
				}
				switch i % 10 {
				case 3:
					return errBad // after its insert: the insert must be undone
				case 7:
					panic("boom")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range results {
		switch i % 10 {
		case 3:
			if !errors.Is(err, errBad) {
				t.Errorf("write %d: got %v, want errBad", i, err)
			}
		case 7:
			if err == nil {
				t.Errorf("write %d panicked but returned nil", i)
			}
		default:
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
			ok++
		}
	}
	if got := count(t, db); got != ok {
		t.Fatalf("%d rows committed, want %d (only the successful writes)", got, ok)
	}
}

func TestWriteSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Write(context.Background(), func(tx *Tx) error {
		_, err := tx.Exec(`CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL); INSERT INTO t VALUES (1, 'a')`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := db.Write(context.Background(), func(*Tx) error { return nil }); err == nil {
		t.Fatal("write after close succeeded")
	}
	db, err = Open(context.Background(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := count(t, db); n != 1 {
		t.Fatalf("%d rows after reopen, want 1", n)
	}
}

func TestWriteCanceledBeforeStartIsNotApplied(t *testing.T) {
	db := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO t VALUES (1, 'a')`)
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if n := count(t, db); n != 0 {
		t.Fatalf("%d rows, want 0", n)
	}
}

func TestOpenRejectsUnknownSynchronous(t *testing.T) {
	_, err := Open(context.Background(), Config{Path: filepath.Join(t.TempDir(), "t.db"), Synchronous: "OFF"})
	if err == nil {
		t.Fatal("synchronous OFF accepted")
	}
}

// BenchmarkWriteParallel measures group-committed single-row inserts with
// synchronous FULL, the take-ticket shape of write.
func BenchmarkWriteParallel(b *testing.B) {
	for _, level := range []string{"FULL", "NORMAL"} {
		b.Run(level, func(b *testing.B) {
			db, err := Open(context.Background(), Config{Path: filepath.Join(b.TempDir(), "t.db"), Synchronous: level})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.Write(context.Background(), func(tx *Tx) error {
				_, err := tx.Exec(`CREATE TABLE t (k INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL)`)
				return err
			})
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					if err := db.Write(context.Background(), func(tx *Tx) error {
						_, err := tx.Exec(`INSERT INTO t (v) VALUES (?)`, fmt.Sprint(i))
						return err
					}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
