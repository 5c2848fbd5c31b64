package sqlite

import (
	"database/sql"
	"errors"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// IsUnavailable reports whether err is the database failing rather than
// the request: the file locked by another process beyond the busy
// timeout, an I/O error, a full disk, a file that cannot be opened or
// written, the writer too busy to take the write before the request's
// time ran out, or the database closed. The HTTP layer answers these with
// 503 and Retry-After instead of a 500: trying again later may succeed,
// and nothing of the request was stored.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, errClosed) || errors.Is(err, errWriterBusy) || errors.Is(err, errWritesFailing) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_PROTOCOL:
			return true
		}
		return false
	}
	// database/sql does not export the errors of a closed *sql.DB and
	// of its statements, which Close closes too.
	msg := err.Error()
	return strings.Contains(msg, "sql: database is closed") || strings.Contains(msg, "sql: statement is closed")
}

// errWriterBusy is returned by Write when the request's context ended
// while the writer was still busy with earlier writes: the store is too
// slow to take it, which IsUnavailable reports.
var errWriterBusy = errors.New("sqlite: the writer is busy")
