// Package notify is the notification outbox: messages to citizens (a
// WeChat subscribe message "请 A023 号到 5 号窗口", an appointment
// reminder) are stored first, in the same breath as the change they
// announce, and a sender delivers them afterwards with retries and
// backoff. A message's ID makes it idempotent: queuing the same ID twice
// stores it once, and a stored message is sent at most once by each
// successful claim.
//
// Outbox is the service: producers (the queue's calls, appointment
// reminders) call Notify and Withdraw; Run sends, resolving each
// recipient through Recipients and delivering through a Sender (the
// WeChat Subscriber of internal/wechat). A failure the Sender marks
// Permanent fails the message at once; others are retried with
// exponential backoff and jitter, up to a number of attempts.
package notify

import (
	"context"
	"time"
)

// Kind is what a message announces; each kind has its WeChat template.
type Kind string

// Message kinds.
const (
	// KindCall: a ticket is called (or recalled, or transferred) to a window.
	KindCall Kind = "queue_call"
	// KindTurnSoon: only a few people are ahead of a ticket ("您前面还有 3 人").
	KindTurnSoon Kind = "queue_turn_soon"
	// KindAppointmentReminder: an appointment is tomorrow or within the hour.
	KindAppointmentReminder Kind = "appointment_reminder"
	// KindAppointmentCancelled: the center cancelled an appointment (the
	// day became a holiday, or the hours changed).
	KindAppointmentCancelled Kind = "appointment_cancelled"
	// KindCaseStatus: a case changed (submitted, returned with a one-time
	// notice, accepted, concluded ...), or 容缺 materials fall due.
	KindCaseStatus Kind = "case_status"
	// KindParcelStatus: a certificate's parcel changed (booked with the
	// courier company, picked up, delivered, not delivered, returned).
	KindParcelStatus Kind = "parcel_status"
	// KindDeliveryCode: the 6-digit code the recipient gives the courier
	// on delivery, sent when the courier picks the parcel up.
	KindDeliveryCode Kind = "delivery_code"
	// KindReviewInvite: an invitation to rate a finished service event
	// (好差评), and its one reminder three days later.
	KindReviewInvite Kind = "review_invite"
	// KindConsultReply: staff replied to a citizen's consultation (网上咨询).
	KindConsultReply Kind = "consult_reply"
	// KindComplaintStatus: a complaint (投诉) was answered or closed.
	KindComplaintStatus Kind = "complaint_status"
)

// Known reports whether k is one of the kinds above: a message of
// another kind has no template and could never be sent.
func (k Kind) Known() bool {
	switch k {
	case KindCall, KindTurnSoon, KindAppointmentReminder, KindAppointmentCancelled, KindCaseStatus,
		KindParcelStatus, KindDeliveryCode:
		return true
	case KindReviewInvite:
		return true
	case KindConsultReply, KindComplaintStatus:
		return true
	}
	return false
}

// Status is where a message is in its life.
type Status string

// Message statuses.
const (
	StatusPending   Status = "pending"   // waiting to be sent, or to be retried
	StatusSent      Status = "sent"      // WeChat accepted it
	StatusFailed    Status = "failed"    // given up: permanent error or too many attempts
	StatusWithdrawn Status = "withdrawn" // no longer true (an appointment cancelled) before it went out
)

// Message is one notification to one person.
type Message struct {
	// ID is chosen by the producer from what the message is about, e.g.
	// "call:tk…:2" or "remind-day:ap…", so producing it twice is harmless.
	ID string
	// To is the recipient as the queue knows people: "citizen:<id>" or
	// "id:<blind index of the ID number>".
	To   string
	Kind Kind
	// Data are the template's fields, e.g. {"number": "A023", "window": "5号窗口"}.
	Data map[string]string
	// Page is the mini-program page the message opens.
	Page string
	// NotBefore is the earliest time to send; zero sends at once.
	NotBefore time.Time
	// CreatedAt is when Outbox.Notify queued the message.
	CreatedAt time.Time

	// Status, Attempts, NextAttempt, LastError and SentAt are kept by the
	// store and the Outbox; producers leave them unset.
	Status Status
	// Attempts counts the tries to send, the successful one included.
	Attempts int
	// NextAttempt is when the sender may next try: NotBefore at first,
	// then after each failure a backoff later; while a sender holds the
	// message it is the end of that sender's lease.
	NextAttempt time.Time
	// LastError is why the last try failed, for the console; it holds
	// no credential and no personal data.
	LastError string
	// SentAt is when WeChat accepted the message.
	SentAt time.Time
}

// Store keeps the outbox. Implementations keep times in UTC to the
// millisecond, and an empty Data reads back as nil.
type Store interface {
	// Enqueue stores messages as pending with NextAttempt = NotBefore (or
	// CreatedAt when NotBefore is zero), no attempts, no error; the
	// Status, Attempts, NextAttempt, LastError and SentAt given are
	// ignored. A message whose ID is already stored (or comes earlier in
	// msgs) is left as it is, whatever its status: producing twice is not
	// sending twice.
	Enqueue(ctx context.Context, msgs ...Message) error
	// Claim returns up to limit pending messages whose NextAttempt is at
	// or before now, oldest NextAttempt first (then by ID), and sets their
	// NextAttempt to leaseUntil, atomically per message: two senders
	// claiming at once never get the same message, and a sender that dies
	// leaves its messages to be claimed again after the lease. leaseUntil
	// must be after now; limit 0 or less claims nothing.
	Claim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]Message, error)
	// MarkSent records a delivered message: pending → sent, Attempts+1,
	// SentAt = at. A withdrawn message becomes sent too, because the
	// withdrawal came while the send was under way and the message did go
	// out. A message already sent or failed is left alone; an unknown ID
	// is apperr.NotFound.
	MarkSent(ctx context.Context, id string, at time.Time) error
	// MarkFailed records a failed attempt of a pending message:
	// Attempts+1, LastError = reason, and either pending again with
	// NextAttempt = retryAt or, if retryAt is zero, failed for good. A
	// message that is no longer pending is left alone; an unknown ID is
	// apperr.NotFound.
	MarkFailed(ctx context.Context, id string, reason string, retryAt time.Time) error
	// Withdraw moves pending messages with these IDs to withdrawn; others
	// (unknown, sent, failed) are left alone.
	Withdraw(ctx context.Context, ids ...string) error
	// GetMessage returns a message by ID (apperr.NotFound if none).
	GetMessage(ctx context.Context, id string) (Message, error)
	// CountByStatus counts the outbox's messages per status, for /metrics
	// and the console. Every status is in the map, with 0 if it has no
	// message.
	CountByStatus(ctx context.Context) (map[Status]int, error)
	// ListFailed returns up to limit failed messages (the dead letters),
	// the most recently queued first (then by ID). Limit 0 or less
	// returns none.
	ListFailed(ctx context.Context, limit int) ([]Message, error)
	// Requeue puts a failed message back: pending, Attempts 0,
	// NextAttempt = at; LastError is kept until the next try. A message
	// in another status is apperr.Conflict, an unknown ID
	// apperr.NotFound.
	Requeue(ctx context.Context, id string, at time.Time) error
}

// Statuses returns every status, in the order of a message's life.
func Statuses() []Status {
	return []Status{StatusPending, StatusSent, StatusFailed, StatusWithdrawn}
}
