// Package apperr defines the errors that business packages return: each
// carries a stable machine code that the HTTP layer maps to a status, a
// message in Chinese that is safe to show a citizen, and optionally the
// input fields that were wrong. The cause, if any, is kept for logs only.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable machine-readable error code, part of the API contract.
type Code string

// Codes shared by every business area. Areas may define their own codes
// (for example "slot_full") with the same type.
const (
	// Invalid means the input was malformed or failed validation.
	Invalid Code = "invalid_input"
	// NotFound means the named thing does not exist (or is not visible to the caller).
	NotFound Code = "not_found"
	// Conflict means the request collides with existing state (a duplicate key).
	Conflict Code = "conflict"
	// VersionConflict means the caller edited a version that is no longer current.
	VersionConflict Code = "version_conflict"
	// Unauthorized means the caller did not prove who it is.
	Unauthorized Code = "unauthorized"
	// Forbidden means the caller is known but may not do this.
	Forbidden Code = "forbidden"
	// TooLarge means the request body is over the configured limit.
	TooLarge Code = "body_too_large"
	// Unavailable means a dependency (the store) cannot serve now.
	Unavailable Code = "unavailable"
	// Timeout means the request ran out of time.
	Timeout Code = "timeout"
	// Internal means a fault of ours; details go to the log only.
	Internal Code = "internal"
	// TooManyRequests means the caller must slow down; see RetryAfter.
	TooManyRequests Code = "too_many_requests"
	// AccountLocked means too many failed logins locked the account for a while.
	AccountLocked Code = "account_locked"
)

// FieldError names one input field that was wrong and why.
type FieldError struct {
	// Field is the JSON path of the offending field, e.g. "materials[2].name".
	Field string `json:"field"`
	// Message says, in Chinese, what is wrong with it.
	Message string `json:"message"`
}

// Error is the error type business packages return.
type Error struct {
	// Code is the stable machine code.
	Code Code
	// Message is a Chinese sentence safe to show the user.
	Message string
	// Fields lists the wrong input fields, if any.
	Fields []FieldError
	// Err is the underlying cause, for logs; never shown to clients.
	Err error
	// RetryAfter, if set, tells the client when to try again.
	RetryAfter time.Duration
}

// Error implements error; it includes the cause for logs.
func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Message
	for _, f := range e.Fields {
		s += fmt.Sprintf(" [%s: %s]", f.Field, f.Message)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a user-facing message.
func New(code Code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Wrap returns an error with a code and message that keeps err as its cause.
func Wrap(code Code, message string, err error) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// Fields returns an Invalid error listing the given field errors.
func Fields(fields ...FieldError) *Error {
	return &Error{Code: Invalid, Message: "输入有误，请检查后重试", Fields: fields}
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool {
	return err != nil && CodeOf(err) == code
}

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
