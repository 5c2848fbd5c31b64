package cases

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/banhao/banhao/internal/apperr"
)

// File describes the stored bytes of one uploaded material.
type File struct {
	// ID names the file in its store.
	ID string `json:"id"`
	// Size is the length in bytes.
	Size int64 `json:"size"`
	// SHA256 is the hex digest of the content, recorded at upload.
	SHA256 string `json:"sha256"`
	// ContentType is the type sniffed from the content: application/pdf,
	// image/jpeg or image/png.
	ContentType string `json:"content_type"`
	// StoredAt is when the upload completed.
	StoredAt time.Time `json:"stored_at"`
}

// FileStore keeps the bytes of uploaded materials: files under the data
// folder on the embedded store, GridFS on MongoDB.
//
// PutFile reads r to its end and stores it as a new file, computing its
// size and SHA-256. It never leaves a partial file behind: if r returns an
// error (a broken upload, or the content check failing half-way), if it
// holds more than limit bytes (apperr code CodeFileTooLarge) or if ctx
// ends, nothing is stored and the error is returned. An empty r is
// CodeFileEmpty. The caller has sniffed the type and passes it in.
type FileStore interface {
	PutFile(ctx context.Context, contentType string, r io.Reader, limit int64) (File, error)
	// OpenFile returns a reader of a stored file and its description;
	// an unknown ID is apperr.NotFound. The caller closes the reader.
	OpenFile(ctx context.Context, id string) (io.ReadCloser, File, error)
	// DeleteFile removes a file; deleting an unknown ID is not an error.
	DeleteFile(ctx context.Context, id string) error
}

// Codes of refused uploads.
const (
	// CodeFileTooLarge: the upload is over the configured size limit.
	CodeFileTooLarge apperr.Code = "file_too_large"
	// CodeFileEmpty: the upload has no bytes.
	CodeFileEmpty apperr.Code = "file_empty"
	// CodeFileType: the content is not a PDF, JPEG or PNG (whatever the
	// name or declared type says).
	CodeFileType apperr.Code = "file_type"
	// CodePDFScript: a PDF carries JavaScript or another active action.
	CodePDFScript apperr.Code = "pdf_script"
)

// ErrFileTooLarge returns the error for an upload over limit bytes.
func ErrFileTooLarge(limit int64) error {
	mb := (limit + 1<<20 - 1) >> 20
	return apperr.New(CodeFileTooLarge, fmt.Sprintf("文件超过 %d MB，请压缩后重新上传", mb))
}

// ErrFileEmpty returns the error for an upload with no bytes.
func ErrFileEmpty() error {
	return apperr.New(CodeFileEmpty, "文件是空的，请重新选择")
}

// CopyUpload copies r to w, up to limit bytes, and returns how many it
// copied. More than limit bytes is ErrFileTooLarge, none is
// ErrFileEmpty. An error of r is returned as it is if it is an
// apperr error (the content check's verdict, with its code for the
// client), else wrapped; ctx is checked between reads. Both FileStore
// implementations copy uploads with it, so they enforce the contract alike.
func CopyUpload(ctx context.Context, w io.Writer, r io.Reader, limit int64) (int64, error) {
	buf := make([]byte, 64<<10)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, rerr := r.Read(buf)
		if k > 0 {
			if n+int64(k) > limit {
				return n, ErrFileTooLarge(limit)
			}
			if _, err := w.Write(buf[:k]); err != nil {
				return n, fmt.Errorf("write: %w", err)
			}
			n += int64(k)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if _, ok := apperr.As(rerr); ok {
				return n, rerr
			}
			return n, fmt.Errorf("read upload after %d bytes: %w", n, rerr)
		}
	}
	if n == 0 {
		return 0, ErrFileEmpty()
	}
	return n, nil
}
