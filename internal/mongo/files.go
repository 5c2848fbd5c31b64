package mongo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/cases"
)

// filesBucket names the GridFS bucket of uploaded materials: the
// collections materials.files and materials.chunks.
const filesBucket = "materials"

// FileStore implements cases.FileStore on GridFS, with the driver's
// bucket, so that standard tools (mongofiles) can read the files. The _id
// of a file is its ID, a string; its metadata holds the content type, the
// SHA-256 and the time the upload completed.
//
// An upload streams into the bucket's upload stream, which inserts
// chunks each time its 16 MiB buffer fills, and the files document at the
// end; the SHA-256, known only then, is set by one update after. (The
// buffer and its encoding make some 36 MiB allocated per upload under way,
// whatever the file's size.) A file shows only once it has its
// SHA-256: OpenFile treats one without as unknown. Any error aborts the
// upload, deleting the chunks already inserted, with a context of its own
// if the request's has ended.
type FileStore struct {
	bucket *mongodrv.GridFSBucket
	files  *mongodrv.Collection
	chunks *mongodrv.Collection

	// openMu serialises the opening of upload streams: before its first
	// upload the bucket checks its indexes, which is not safe for
	// concurrent use.
	openMu sync.Mutex
}

var _ cases.FileStore = (*FileStore)(nil)

// NewFileStore returns the file store on db.
func NewFileStore(db *DB) *FileStore {
	b := db.db.GridFSBucket(options.GridFSBucket().SetName(filesBucket))
	return &FileStore{bucket: b, files: b.GetFilesCollection(), chunks: b.GetChunksCollection()}
}

// fileMeta is the metadata of a GridFS file.
type fileMeta struct {
	ContentType string    `bson:"content_type"`
	SHA256      string    `bson:"sha256,omitempty"`
	StoredAt    time.Time `bson:"stored_at"`
}

func errNoFile() error { return apperr.New(apperr.NotFound, "没有这个文件") }

// PutFile implements cases.FileStore.
func (s *FileStore) PutFile(ctx context.Context, contentType string, r io.Reader, limit int64) (cases.File, error) {
	if err := ctx.Err(); err != nil {
		return cases.File{}, fmt.Errorf("mongo: store file: %w", err)
	}
	id := rand.Text()
	s.openMu.Lock()
	us, err := s.bucket.OpenUploadStreamWithID(ctx, id, id,
		options.GridFSUpload().SetMetadata(fileMeta{ContentType: contentType}))
	s.openMu.Unlock()
	if err != nil {
		return cases.File{}, fmt.Errorf("mongo: store file: open upload: %w", err)
	}

	h := sha256.New()
	size, err := cases.CopyUpload(ctx, io.MultiWriter(us, h), r, limit)
	closing := false
	if err == nil {
		closing = true
		if err = us.Close(); err != nil {
			err = fmt.Errorf("close upload: %w", err)
		}
	}
	file := cases.File{ID: id, Size: size, SHA256: hex.EncodeToString(h.Sum(nil)), ContentType: contentType}
	if err == nil {
		file.StoredAt = time.Now().UTC().Truncate(time.Millisecond)
		set := bson.D{{Key: "$set", Value: bson.D{
			{Key: "metadata.sha256", Value: file.SHA256},
			{Key: "metadata.stored_at", Value: file.StoredAt},
		}}}
		if _, err = s.files.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, set); err != nil {
			err = fmt.Errorf("record: %w", err)
		}
	}
	if err == nil {
		return file, nil
	}

	if _, ok := apperr.As(err); !ok {
		err = fmt.Errorf("mongo: store file %s: %w", id, err)
	}
	if derr := s.discard(ctx, us, id, closing); derr != nil {
		return cases.File{}, errors.Join(err, derr)
	}
	return cases.File{}, err // an apperr error as it is, for the client
}

// discard removes what a failed upload stored. Abort deletes the chunks
// inserted so far, but with the upload's context, which may have ended;
// and once Close was tried, the files document may exist too. Then both
// are deleted with a context of their own.
func (s *FileStore) discard(ctx context.Context, us *mongodrv.GridFSUploadStream, id string, closing bool) error {
	if err := us.Abort(); err == nil && !closing {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, err := s.files.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if _, err2 := s.chunks.DeleteMany(ctx, bson.D{{Key: "files_id", Value: id}}); err2 != nil {
		err = errors.Join(err, err2)
	}
	if err != nil {
		return fmt.Errorf("mongo: remove failed upload %s: %w", id, err)
	}
	return nil
}

// OpenFile implements cases.FileStore; the reader is the bucket's
// download stream, which reads chunks as it goes, with ctx.
//
// The stream reads with a context of its own, not ctx: an HTTP server
// sends the body after the handler (and the request's context) has
// ended. It is bounded by downloadTimeout and ends when the reader is
// closed.
func (s *FileStore) OpenFile(ctx context.Context, id string) (io.ReadCloser, cases.File, error) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), downloadTimeout)
	ds, err := s.bucket.OpenDownloadStream(dctx, id)
	if errors.Is(err, mongodrv.ErrFileNotFound) {
		cancel()
		return nil, cases.File{}, errNoFile()
	}
	if err != nil {
		cancel()
		return nil, cases.File{}, fmt.Errorf("mongo: open file %s: %w", id, err)
	}
	gf := ds.GetFile()
	var meta fileMeta
	if len(gf.Metadata) > 0 {
		if err := bson.Unmarshal(gf.Metadata, &meta); err != nil {
			ds.Close()
			cancel()
			return nil, cases.File{}, fmt.Errorf("mongo: open file %s: metadata: %w", id, err)
		}
	}
	if meta.SHA256 == "" { // an upload not finished, or left by a crash
		ds.Close()
		cancel()
		return nil, cases.File{}, errNoFile()
	}
	return &download{GridFSDownloadStream: ds, cancel: cancel}, cases.File{
		ID: id, Size: gf.Length, SHA256: meta.SHA256, ContentType: meta.ContentType, StoredAt: meta.StoredAt.UTC(),
	}, nil
}

// DeleteFile implements cases.FileStore.
func (s *FileStore) DeleteFile(ctx context.Context, id string) error {
	err := s.bucket.Delete(ctx, id)
	if err != nil && !errors.Is(err, mongodrv.ErrFileNotFound) {
		return fmt.Errorf("mongo: delete file %s: %w", id, err)
	}
	return nil
}

// Count returns the number of documents in the bucket's files and chunks
// collections, for monitoring and the contract tests: chunks without a
// file belong to uploads under way, or to ones a crash cut off.
func (s *FileStore) Count(ctx context.Context) (files, chunks int64, err error) {
	if files, err = s.files.CountDocuments(ctx, bson.D{}); err != nil {
		return 0, 0, fmt.Errorf("mongo: count files: %w", err)
	}
	if chunks, err = s.chunks.CountDocuments(ctx, bson.D{}); err != nil {
		return 0, 0, fmt.Errorf("mongo: count file chunks: %w", err)
	}
	return files, chunks, nil
}

// downloadTimeout bounds how long one material download may take.
const downloadTimeout = 10 * time.Minute

// download is a GridFS download stream that releases its context when closed.
type download struct {
	*mongodrv.GridFSDownloadStream
	cancel context.CancelFunc
}

// Close closes the stream and ends its context.
func (d *download) Close() error {
	err := d.GridFSDownloadStream.Close()
	d.cancel()
	return err
}
