// Package delivery is 证照免费寄送: the certificate of an approved case
// mailed free of charge to the address the citizen gave, when applying
// or after conclusion.
//
// A parcel is made for a case as soon as the citizen gives an address
// (awaiting_certificate); once the case has its certificate, Dispatch asks
// the courier company (a Carrier) for a waybill number and the parcel is
// ready, with a label whose QR code carries the parcel ID. A clerk at the
// 出件 window assigns a courier of the center; the courier scans the
// label at pick-up (picked_up), which sends the recipient a 6-digit
// delivery code by subscribe message; the courier delivers by entering
// that code (delivered), or records a failed attempt with its reason, or
// brings the parcel back to the center (returned), from where it can be
// assigned again. Five wrong codes lock the parcel for that courier and
// raise an alert the center sees in its parcel list.
//
// Personal data (the recipient's name, phone and address) is stored only
// sealed; couriers and staff see the name and phone masked and the
// address in full (they must deliver to it); the code itself is never
// stored, only a keyed hash of it. Every state change pushes a WeChat
// message to the citizen through the outbox.
//
// A parcel is one document. Every change is a conditional update on its
// revision, so of two couriers' simultaneous actions exactly one applies,
// on the embedded store and on a sharded MongoDB alike.
package delivery

import (
	"slices"
	"time"
)

// Status is where a parcel is in its life.
type Status string

// Parcel statuses.
const (
	// StatusAwaitingCertificate: the address is known, the certificate
	// (or the courier company's waybill number) is not yet.
	StatusAwaitingCertificate Status = "awaiting_certificate"
	// StatusReady: waybill number and label exist; waiting at the center
	// for its courier.
	StatusReady Status = "ready"
	// StatusPickedUp: the courier scanned it at the center and is on the way.
	StatusPickedUp Status = "picked_up"
	// StatusDelivered: the recipient gave the courier the delivery code.
	StatusDelivered Status = "delivered"
	// StatusFailedAttempt: the courier tried and could not deliver (the
	// reason is in Attempts); they try again or bring it back.
	StatusFailedAttempt Status = "failed_attempt"
	// StatusReturned: back at the center; staff assign it again or hand
	// it over at the window.
	StatusReturned Status = "returned"
)

// Label is the status's name for citizens, couriers and staff.
func (s Status) Label() string {
	switch s {
	case StatusAwaitingCertificate:
		return "待出证"
	case StatusReady:
		return "待揽收"
	case StatusPickedUp:
		return "派送中"
	case StatusDelivered:
		return "已签收"
	case StatusFailedAttempt:
		return "投递未成功"
	case StatusReturned:
		return "已退回中心"
	}
	return string(s)
}

// Known reports whether s is one of the statuses above.
func (s Status) Known() bool { return s.Label() != string(s) }

// Statuses lists every status in the order of a parcel's life.
func Statuses() []Status {
	return []Status{StatusAwaitingCertificate, StatusReady, StatusPickedUp, StatusFailedAttempt, StatusReturned, StatusDelivered}
}

// Recipient is whom and where the parcel goes, sealed at rest. The masked
// forms are what couriers and staff see; the address is opened for them
// because they must deliver to it.
type Recipient struct {
	NameSealed    string `json:"name_sealed"`
	PhoneSealed   string `json:"phone_sealed"`
	AddressSealed string `json:"address_sealed"`
	NameMasked    string `json:"name_masked"`
	PhoneMasked   string `json:"phone_masked"`
}

// CourierTries counts one courier's wrong delivery codes for a parcel.
type CourierTries struct {
	Courier string `json:"courier"`
	Wrong   int    `json:"wrong"`
	// LockedAt is when the last allowed wrong code locked the parcel for
	// this courier; zero while not locked.
	LockedAt time.Time `json:"locked_at,omitzero"`
}

// Locked reports whether the courier may no longer try codes.
func (t CourierTries) Locked() bool { return !t.LockedAt.IsZero() }

// Attempt is a failed delivery attempt.
type Attempt struct {
	At      time.Time `json:"at"`
	Courier string    `json:"courier"`
	Reason  string    `json:"reason"`
}

// Event is one line of a parcel's history.
type Event struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	Status Status    `json:"status"`
	// Note is shown to the citizen.
	Note string `json:"note,omitempty"`
	// Actor is who acted ("staff:<id>", "courier:<id>", "citizen:<id>",
	// "system"), for staff and auditors only.
	Actor string `json:"actor,omitempty"`
}

// Parcel is the certificate of one case on its way to the citizen.
type Parcel struct {
	ID string `json:"id"`
	// Case is the case's ID; one case has at most one parcel.
	Case       string `json:"case"`
	CaseNumber string `json:"case_number"`
	Center     string `json:"center"`
	MatterName string `json:"matter_name"`
	// Certificate is the ID of the e-certificate whose paper copy the
	// parcel holds, and CertificateType its type (营业执照 ...); empty
	// until the case has one.
	Certificate     string `json:"certificate,omitempty"`
	CertificateType string `json:"certificate_type,omitempty"`
	// Holder is the applicant, "id:<blind index>"; Citizen the
	// mini-program account that gave the address, "citizen:<id>", to
	// whom the messages go.
	Holder  string `json:"holder"`
	Citizen string `json:"citizen,omitempty"`

	Recipient Recipient `json:"recipient"`

	// Company and Tracking are the courier company and its waybill
	// number, set when the parcel becomes ready.
	Company  string `json:"company,omitempty"`
	Tracking string `json:"tracking,omitempty"`
	// DispatchError says why the courier company did not take the parcel
	// yet (it is retried); empty once it did.
	DispatchError string `json:"dispatch_error,omitempty"`

	// Courier is the staff ID of the assigned courier, CourierName their
	// name as on their badge.
	Courier     string `json:"courier,omitempty"`
	CourierName string `json:"courier_name,omitempty"`

	Status Status `json:"status"`
	// CodeHash is a keyed hash of the delivery code of the current trip
	// (never the code); Trips counts the pick-ups, each with a new code.
	CodeHash string `json:"code_hash,omitempty"`
	Trips    int    `json:"trips"`
	// Tries counts wrong codes per courier.
	Tries    []CourierTries `json:"tries,omitempty"`
	Attempts []Attempt      `json:"attempts,omitempty"`
	// Alert, if set, tells the center to act (the parcel was locked after
	// wrong codes); it is cleared when the parcel is assigned again.
	Alert   string  `json:"alert,omitempty"`
	History []Event `json:"history"`

	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	// Rev counts the stored changes; an update succeeds only on the
	// revision it read.
	Rev int `json:"rev"`
}

// TriesOf returns the courier's wrong-code count on the parcel.
func (p *Parcel) TriesOf(courier string) CourierTries {
	if i := slices.IndexFunc(p.Tries, func(t CourierTries) bool { return t.Courier == courier }); i >= 0 {
		return p.Tries[i]
	}
	return CourierTries{Courier: courier}
}

func (p *Parcel) setTries(t CourierTries) {
	if i := slices.IndexFunc(p.Tries, func(x CourierTries) bool { return x.Courier == t.Courier }); i >= 0 {
		p.Tries[i] = t
		return
	}
	p.Tries = append(p.Tries, t)
}

// Active reports whether the parcel is still with a courier or waiting
// for one.
func (s Status) Active() bool {
	switch s {
	case StatusReady, StatusPickedUp, StatusFailedAttempt:
		return true
	}
	return false
}
