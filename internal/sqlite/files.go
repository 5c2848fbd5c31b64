package sqlite

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/cases"
)

// FileStore implements cases.FileStore with the bytes as files under
// files/ beside the database file and one row of metadata each in the
// database. Blobs in SQLite would hold the one writer, which the queue's
// tickets need, for as long as an upload takes; here the writer only
// records the row, after the bytes are safely on disk.
//
// A file's path is files/<first two letters of its ID>/<ID>. An upload is
// written to files/tmp/ first, synced, and renamed into place, so that a
// path never holds part of a file. A crash can leave a temporary file, or
// a file whose row was never written: Sweep removes both.
type FileStore struct {
	db   *DB
	root string
}

var _ cases.FileStore = (*FileStore)(nil)

// NewFileStore returns the file store of db, under db.Dir()/files.
func NewFileStore(db *DB) *FileStore {
	return &FileStore{db: db, root: filepath.Join(db.Dir(), "files")}
}

// Dir returns the folder that holds the files.
func (s *FileStore) Dir() string { return s.root }

// filesTmpDir is the folder of uploads under way, under the root.
const filesTmpDir = "tmp"

// fileIDLen is the length of rand.Text's IDs: 26 letters of the base32
// alphabet, 128 bits.
const fileIDLen = 26

// validFileID reports whether id could be one of ours: the check keeps
// anything a client sends from naming a path outside the store.
func validFileID(id string) bool {
	if len(id) != fileIDLen {
		return false
	}
	for i := range len(id) {
		if c := id[i]; (c < 'A' || c > 'Z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

func (s *FileStore) path(id string) string { return filepath.Join(s.root, id[:2], id) }

func errNoFile() error { return apperr.New(apperr.NotFound, "没有这个文件") }

const fileColumns = `id, size, sha256, content_type, stored_at`

func scanFile(sc scanner) (cases.File, error) {
	var f cases.File
	var at int64
	err := sc.Scan(&f.ID, &f.Size, &f.SHA256, &f.ContentType, &at)
	f.StoredAt = fromMS(at)
	return f, err
}

// PutFile implements cases.FileStore.
func (s *FileStore) PutFile(ctx context.Context, contentType string, r io.Reader, limit int64) (cases.File, error) {
	if err := ctx.Err(); err != nil {
		return cases.File{}, fmt.Errorf("sqlite: store file: %w", err)
	}
	id := rand.Text()
	tmp := filepath.Join(s.root, filesTmpDir)
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		return cases.File{}, fmt.Errorf("sqlite: store file: %w", err)
	}
	f, err := os.CreateTemp(tmp, id+"-*")
	if err != nil {
		return cases.File{}, fmt.Errorf("sqlite: store file: %w", err)
	}
	// Until the row is written, any error removes what was written.
	written := f.Name()
	defer func() {
		if f != nil {
			f.Close()
		}
		if written != "" {
			os.Remove(written)
		}
	}()

	h := sha256.New()
	size, err := cases.CopyUpload(ctx, io.MultiWriter(f, h), r, limit)
	if _, ok := apperr.As(err); ok {
		return cases.File{}, err // the client's to see, code and message
	}
	if err != nil {
		return cases.File{}, fmt.Errorf("sqlite: store file %s: %w", id, err)
	}
	if err := f.Sync(); err != nil {
		return cases.File{}, fmt.Errorf("sqlite: store file %s: %w", id, err)
	}
	err = f.Close()
	f = nil
	if err != nil {
		return cases.File{}, fmt.Errorf("sqlite: store file %s: %w", id, err)
	}
	if err := s.place(written, id); err != nil {
		return cases.File{}, fmt.Errorf("sqlite: store file %s: %w", id, err)
	}
	written = s.path(id)

	file := cases.File{
		ID: id, Size: size, SHA256: hex.EncodeToString(h.Sum(nil)), ContentType: contentType,
		StoredAt: time.Now().UTC().Truncate(time.Millisecond),
	}
	err = s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO files (`+fileColumns+`) VALUES (?, ?, ?, ?, ?)`,
			file.ID, file.Size, file.SHA256, file.ContentType, ms(file.StoredAt))
		return err
	})
	if err != nil {
		return cases.File{}, fmt.Errorf("sqlite: store file %s: record: %w", id, err)
	}
	written = ""
	return file, nil
}

// place renames the synced temporary file tmp to id's path and syncs the
// folders whose entries changed, so that a power cut after the row is
// written cannot lose the file.
func (s *FileStore) place(tmp, id string) error {
	shard := filepath.Dir(s.path(id))
	err := os.Mkdir(shard, 0o750)
	created := err == nil
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if created {
		if err := syncFilesDir(s.root); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, s.path(id)); err != nil {
		return err
	}
	return syncFilesDir(shard)
}

func syncFilesDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}

// OpenFile implements cases.FileStore; the reader is the *os.File.
func (s *FileStore) OpenFile(ctx context.Context, id string) (io.ReadCloser, cases.File, error) {
	if !validFileID(id) {
		return nil, cases.File{}, errNoFile()
	}
	file, err := s.getFile(ctx, id)
	if err != nil {
		return nil, cases.File{}, err
	}
	f, err := os.Open(s.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		// Deleted since the row was read, or lost: the row tells.
		if _, err2 := s.getFile(ctx, id); apperr.Is(err2, apperr.NotFound) {
			return nil, cases.File{}, err2
		}
	}
	if err != nil {
		return nil, cases.File{}, fmt.Errorf("sqlite: open file %s: %w", id, err)
	}
	if st, err := f.Stat(); err != nil || st.Size() != file.Size {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%d bytes on disk, %d recorded", st.Size(), file.Size)
		}
		return nil, cases.File{}, fmt.Errorf("sqlite: open file %s: %w", id, err)
	}
	return f, file, nil
}

func (s *FileStore) getFile(ctx context.Context, id string) (cases.File, error) {
	file, err := queryOne(ctx, s.db, scanFile, errNoFile(), `SELECT `+fileColumns+` FROM files WHERE id = ?`, id)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return cases.File{}, fmt.Errorf("sqlite: get file %s: %w", id, err)
	}
	return file, err
}

// DeleteFile implements cases.FileStore. The row goes first: a crash
// between leaves a file without a row, which Sweep removes, never a row
// without its file.
func (s *FileStore) DeleteFile(ctx context.Context, id string) error {
	if !validFileID(id) {
		return nil
	}
	err := s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`DELETE FROM files WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete file %s: %w", id, err)
	}
	if err := os.Remove(s.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sqlite: delete file %s: %w", id, err)
	}
	return nil
}

// Sweep removes what crashes left behind, if last modified more than
// olderThan ago: temporary files of uploads, and files without a row (an
// upload that crashed before recording it, a delete after removing it).
// olderThan must be longer than any upload takes, an hour say; Sweep is
// meant for start-up or a daily timer. It returns how many files it
// removed.
func (s *FileStore) Sweep(ctx context.Context, olderThan time.Duration) (int, error) {
	before := time.Now().Add(-olderThan)
	shards, err := os.ReadDir(s.root)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: sweep files: %w", err)
	}
	removed := 0
	for _, sh := range shards {
		if !sh.IsDir() {
			continue
		}
		dir := filepath.Join(s.root, sh.Name())
		entries, err := os.ReadDir(dir)
		if err != nil {
			return removed, fmt.Errorf("sqlite: sweep files: %w", err)
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return removed, fmt.Errorf("sqlite: sweep files: %w", err)
			}
			info, err := e.Info()
			if err != nil || !info.Mode().IsRegular() || !info.ModTime().Before(before) {
				continue // gone meanwhile, not ours, or maybe under way
			}
			if sh.Name() != filesTmpDir {
				if !validFileID(e.Name()) || !strings.HasPrefix(e.Name(), sh.Name()) {
					continue
				}
				_, err := s.getFile(ctx, e.Name())
				if !apperr.Is(err, apperr.NotFound) {
					if err != nil {
						return removed, fmt.Errorf("sqlite: sweep files: %w", err)
					}
					continue // recorded: a file in use
				}
			}
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return removed, fmt.Errorf("sqlite: sweep files: %w", err)
			}
			removed++
		}
	}
	return removed, nil
}
