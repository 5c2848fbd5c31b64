package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/mongo"
	"github.com/banhao/banhao/internal/sqlite"
)

// TestFileStoreContract is the contract of cases.FileStore.
func TestFileStoreContract(t *testing.T) {
	runContract(t, pickFiles, fileScenarios)
}

// fileHarness is a file store and a way to see everything its backend
// holds, to check that a refused upload left nothing behind.
type fileHarness struct {
	store cases.FileStore
	// residue counts what the backend holds, by kind: for SQLite the
	// files on disk and the temporary files; for GridFS the documents
	// of the files and chunks collections.
	residue func(t *testing.T) map[string]int
}

// pickFiles builds the file store on the backend's raw database.
func pickFiles(s stores) fileHarness {
	if s.sqlite != nil {
		fs := sqlite.NewFileStore(s.sqlite)
		return fileHarness{store: fs, residue: func(t *testing.T) map[string]int { return filesOnDisk(t, fs.Dir()) }}
	}
	fs := mongo.NewFileStore(s.mongo)
	return fileHarness{store: fs, residue: func(t *testing.T) map[string]int {
		t.Helper()
		files, chunks, err := fs.Count(t.Context())
		must(t, "count GridFS documents", err)
		return map[string]int{"files": int(files), "chunks": int(chunks)}
	}}
}

// filesOnDisk counts the regular files under root: those in tmp/ and the
// others.
func filesOnDisk(t *testing.T, root string) map[string]int {
	t.Helper()
	n := map[string]int{"files": 0, "temporary files": 0}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case errors.Is(err, fs.ErrNotExist) && path == root:
			return filepath.SkipDir // nothing stored yet
		case err != nil:
			return err
		case !d.Type().IsRegular():
			return nil
		case filepath.Base(filepath.Dir(path)) == "tmp":
			n["temporary files"]++
		default:
			n["files"]++
		}
		return nil
	})
	must(t, "walk the files folder", err)
	return n
}

var fileScenarios = []scenario[fileHarness]{
	{"round trip: bytes, size, SHA-256 of the input, content type, stored_at", testFileRoundTrip},
	{"a file of exactly the limit is stored; one byte over is file_too_large and leaves nothing", testFileLimit},
	{"an upload refused after 16 MiB (GridFS has written chunks) leaves nothing", testFileLimitLate},
	{"an empty upload is file_empty and leaves nothing", testFileEmpty},
	{"a reader failing half-way: its error, nothing left", testFileReadError},
	{"the request's context ending mid-stream: its error, nothing left", testFileCancel},
	{"the context ending after 16 MiB: nothing left, though the upload's context has ended", testFileCancelLate},
	{"the content check failing mid-stream keeps its code and message, nothing left", testFileCheckFails},
	{"unknown, malformed and path-like IDs are not_found; deleting them is no error", testFileUnknown},
	{"a deleted file is not_found; deleting it again is no error", testFileDelete},
	{"an 8 MiB file round-trips", testFileLarge},
	{"10 concurrent uploads: distinct IDs, each intact", testFileConcurrent},
}

// fileBytes returns n bytes of deterministic noise.
func fileBytes(n int, seed uint64) []byte {
	var s [32]byte
	s[0] = byte(seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func putFile(t *testing.T, h fileHarness, contentType string, data []byte, limit int64) cases.File {
	t.Helper()
	f, err := h.store.PutFile(t.Context(), contentType, bytes.NewReader(data), limit)
	must(t, fmt.Sprintf("put a file of %d bytes", len(data)), err)
	return f
}

// readFile opens id and returns its bytes and description.
func readFile(t *testing.T, h fileHarness, id string) ([]byte, cases.File) {
	t.Helper()
	rc, f, err := h.store.OpenFile(t.Context(), id)
	must(t, "open file "+id, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	must(t, "read file "+id, err)
	return b, f
}

// wantIntact checks that f, as PutFile returned it, describes data, and
// that the store gives back the same bytes and description.
func wantIntact(t *testing.T, h fileHarness, f cases.File, contentType string, data []byte) {
	t.Helper()
	if f.ID == "" || f.Size != int64(len(data)) || f.SHA256 != sha(data) || f.ContentType != contentType {
		t.Errorf("stored %+v; want an ID, size %d, SHA-256 %s, type %s", f, len(data), sha(data), contentType)
	}
	got, desc := readFile(t, h, f.ID)
	if !bytes.Equal(got, data) {
		t.Errorf("file %s: read %d bytes (SHA-256 %s), want the %d stored", f.ID, len(got), sha(got), len(data))
	}
	if desc.ID != f.ID || desc.Size != f.Size || desc.SHA256 != f.SHA256 || desc.ContentType != f.ContentType || !desc.StoredAt.Equal(f.StoredAt) {
		t.Errorf("file %s: described as %+v, stored as %+v", f.ID, desc, f)
	}
}

// wantNothingLeft checks that the backend holds what it held before.
func wantNothingLeft(t *testing.T, h fileHarness, before map[string]int) {
	t.Helper()
	if after := h.residue(t); !maps.Equal(after, before) {
		t.Errorf("the refused upload left something: held %v before, %v after", before, after)
	}
}

func testFileRoundTrip(t *testing.T, h fileHarness) {
	data := fileBytes(600<<10, 1) // three GridFS chunks and a bit
	before := time.Now()
	f := putFile(t, h, "application/pdf", data, 1<<20)
	after := time.Now()
	wantIntact(t, h, f, "application/pdf", data)
	if f.StoredAt.Location() != time.UTC || f.StoredAt.Before(before.Add(-time.Millisecond)) || f.StoredAt.After(after) {
		t.Errorf("stored at %v, want in UTC between %v and %v", f.StoredAt, before, after)
	}
	if f.StoredAt != stored(f.StoredAt) {
		t.Errorf("stored at %v, want whole milliseconds", f.StoredAt)
	}
	png := putFile(t, h, "image/png", data[:1000], 1000)
	if png.ID == f.ID {
		t.Errorf("two files got ID %s", f.ID)
	}
	wantIntact(t, h, png, "image/png", data[:1000])
}

func testFileLimit(t *testing.T, h fileHarness) {
	data := fileBytes(100_000, 2)
	f := putFile(t, h, "image/jpeg", data, int64(len(data)))
	wantIntact(t, h, f, "image/jpeg", data)
	before := h.residue(t)
	_, err := h.store.PutFile(t.Context(), "image/jpeg", bytes.NewReader(append(data, 'x')), int64(len(data)))
	wantCode(t, "put one byte over the limit", err, cases.CodeFileTooLarge)
	wantNothingLeft(t, h, before)
}

func testFileLimitLate(t *testing.T, h fileHarness) {
	before := h.residue(t)
	data := fileBytes(18<<20, 3)
	_, err := h.store.PutFile(t.Context(), "application/pdf", bytes.NewReader(data), 17<<20)
	wantCode(t, "put 18 MiB with a limit of 17", err, cases.CodeFileTooLarge)
	wantNothingLeft(t, h, before)
}

func testFileEmpty(t *testing.T, h fileHarness) {
	before := h.residue(t)
	_, err := h.store.PutFile(t.Context(), "application/pdf", bytes.NewReader(nil), 1<<20)
	wantCode(t, "put nothing", err, cases.CodeFileEmpty)
	wantNothingLeft(t, h, before)
}

func testFileReadError(t *testing.T, h fileHarness) {
	before := h.residue(t)
	data := fileBytes(300<<10, 4)
	r := io.MultiReader(bytes.NewReader(data), iotest.ErrReader(io.ErrUnexpectedEOF))
	_, err := h.store.PutFile(t.Context(), "application/pdf", r, 1<<20)
	if !errors.Is(err, io.ErrUnexpectedEOF) || apperr.CodeOf(err) != apperr.Internal {
		t.Errorf("put from a failing reader: %v, want io.ErrUnexpectedEOF, internal", err)
	}
	wantNothingLeft(t, h, before)
}

// cancelReader reads r and cancels after n bytes.
type cancelReader struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	if c.n -= k; c.n <= 0 {
		c.cancel()
	}
	return k, err
}

func cancelAfter(t *testing.T, h fileHarness, size, after int) {
	t.Helper()
	before := h.residue(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := &cancelReader{r: bytes.NewReader(fileBytes(size, 5)), n: after, cancel: cancel}
	_, err := h.store.PutFile(ctx, "application/pdf", r, int64(size))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("put with a context ended after %d bytes: %v, want context.Canceled", after, err)
	}
	wantNothingLeft(t, h, before)
}

func testFileCancel(t *testing.T, h fileHarness) { cancelAfter(t, h, 1<<20, 200<<10) }

func testFileCancelLate(t *testing.T, h fileHarness) { cancelAfter(t, h, 20<<20, 17<<20) }

func testFileCheckFails(t *testing.T, h fileHarness) {
	before := h.residue(t)
	// A PDF whose script comes after 400 KiB of image data.
	var b bytes.Buffer
	img := fileBytes(400<<10, 6)
	fmt.Fprintf(&b, "%%PDF-1.7\n1 0 obj\n<< /Type /XObject /Subtype /Image /Length %d >>\nstream\n", len(img))
	b.Write(img)
	b.WriteString("\nendstream\nendobj\n2 0 obj\n<< /S /JavaScript /JS (app.alert\\(1\\)) >>\nendobj\n%%EOF\n")
	_, err := h.store.PutFile(t.Context(), "application/pdf", cases.CheckedReader(&b, "application/pdf"), 1<<20)
	wantCode(t, "put a PDF with a script", err, cases.CodePDFScript)
	if e, ok := err.(*apperr.Error); !ok || e.Err != nil {
		t.Errorf("put a PDF with a script: %#v, want the check's *apperr.Error as it is", err)
	}
	wantNothingLeft(t, h, before)
}

func testFileUnknown(t *testing.T, h fileHarness) {
	f := putFile(t, h, "application/pdf", fileBytes(1000, 7), 1000)
	for _, id := range []string{
		"AAAAAAAAAAAAAAAAAAAAAAAAAA", // the form of an ID
		f.ID[:25] + "A", f.ID + "A", "", "nope",
		"../../banhao.db", "../" + f.ID[:2] + "/" + f.ID, "/etc/passwd", `..\..\banhao.db`,
	} {
		if id == f.ID {
			continue
		}
		_, _, err := h.store.OpenFile(t.Context(), id)
		wantCode(t, fmt.Sprintf("open %q", id), err, apperr.NotFound)
		must(t, fmt.Sprintf("delete %q", id), h.store.DeleteFile(t.Context(), id))
	}
	wantIntact(t, h, f, "application/pdf", fileBytes(1000, 7))
}

func testFileDelete(t *testing.T, h fileHarness) {
	before := h.residue(t)
	keep := putFile(t, h, "image/png", fileBytes(2000, 8), 1<<20)
	f := putFile(t, h, "application/pdf", fileBytes(300<<10, 9), 1<<20)
	must(t, "delete", h.store.DeleteFile(t.Context(), f.ID))
	_, _, err := h.store.OpenFile(t.Context(), f.ID)
	wantCode(t, "open a deleted file", err, apperr.NotFound)
	must(t, "delete again", h.store.DeleteFile(t.Context(), f.ID))
	must(t, "delete the other", h.store.DeleteFile(t.Context(), keep.ID))
	wantNothingLeft(t, h, before)
}

func testFileLarge(t *testing.T, h fileHarness) {
	data := fileBytes(8<<20, 10)
	f := putFile(t, h, "application/pdf", data, 10<<20)
	wantIntact(t, h, f, "application/pdf", data)
}

func testFileConcurrent(t *testing.T, h fileHarness) {
	const n = 10
	datas := make([][]byte, n)
	files := make([]cases.File, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		datas[i] = fileBytes(200<<10+i*1000, uint64(20+i))
		wg.Go(func() {
			files[i], errs[i] = h.store.PutFile(t.Context(), "image/jpeg", bytes.NewReader(datas[i]), 1<<20)
		})
	}
	wg.Wait()
	ids := map[string]bool{}
	for i := range n {
		must(t, fmt.Sprintf("upload %d", i), errs[i])
		if ids[files[i].ID] {
			t.Errorf("ID %s given twice", files[i].ID)
		}
		ids[files[i].ID] = true
		wantIntact(t, h, files[i], "image/jpeg", datas[i])
	}
}

// TestFileStoreSweep: Sweep removes old temporary files and files
// without a row, and keeps stored files and anything recent.
func TestFileStoreSweep(t *testing.T) {
	s := sqlite.NewFileStore(openSQLite(t).sqlite)
	ctx := t.Context()
	f, err := s.PutFile(ctx, "image/png", bytes.NewReader([]byte("stored")), 100)
	must(t, "put", err)
	old := time.Now().Add(-2 * time.Hour)
	write := func(path string, at time.Time) {
		must(t, "mkdir", os.MkdirAll(filepath.Dir(path), 0o750))
		must(t, "write "+path, os.WriteFile(path, []byte("left"), 0o600))
		must(t, "chtimes", os.Chtimes(path, at, at))
	}
	stale := []string{
		filepath.Join(s.Dir(), "tmp", "ABCDEFGHIJKLMNOPQRSTUVWXYZ-123"),
		filepath.Join(s.Dir(), "QR", "QRSTUVWXYZ234567ABCDEFGHIJ"),
	}
	fresh := []string{
		filepath.Join(s.Dir(), "tmp", "ZZZZZZZZZZZZZZZZZZZZZZZZZZ-456"),
		filepath.Join(s.Dir(), "QR", "QRQRQRQRQRQRQRQRQRQRQRQRQR"),
	}
	for _, p := range stale {
		write(p, old)
	}
	for _, p := range fresh {
		write(p, time.Now())
	}
	stored := filepath.Join(s.Dir(), f.ID[:2], f.ID)
	must(t, "age the stored file", os.Chtimes(stored, old, old))

	n, err := s.Sweep(ctx, time.Hour)
	must(t, "sweep", err)
	if n != len(stale) {
		t.Errorf("swept %d files, want %d", n, len(stale))
	}
	for _, p := range stale {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is still there (%v)", p, err)
		}
	}
	for _, p := range append(fresh, stored) {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}

// BenchmarkFileUpload uploads a 4 MiB file per operation.
func BenchmarkFileUpload(b *testing.B) {
	data := fileBytes(4<<20, 30)
	for _, bk := range []struct {
		name string
		open func(b *testing.B) cases.FileStore
	}{{"sqlite", benchSQLiteFiles}, {"ferretdb", benchFerretFiles}} {
		b.Run(bk.name, func(b *testing.B) {
			fs := bk.open(b)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				f, err := fs.PutFile(b.Context(), "application/pdf", bytes.NewReader(data), int64(len(data)))
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := fs.DeleteFile(b.Context(), f.ID); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// benchSQLiteFiles and benchFerretFiles open the stores as openSQLite and
// openFerretDB do, for a benchmark.
func benchSQLiteFiles(b *testing.B) cases.FileStore {
	db, err := sqlite.Open(b.Context(), sqlite.Config{Path: filepath.Join(b.TempDir(), "banhao.db")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return sqlite.NewFileStore(db)
}

func benchFerretFiles(b *testing.B) cases.FileStore {
	dir := b.TempDir()
	ferretNew.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	ferretNew.Unlock()
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	db, err := mongo.OpenWith(b.Context(), mongo.Options{URI: f.MongoDBURI(), Database: "banhao", MaxPoolSize: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close(context.Background()) })
	return mongo.NewFileStore(db)
}
