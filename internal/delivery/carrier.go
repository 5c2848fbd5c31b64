package delivery

import (
	"context"
	"strings"

	"github.com/banhao/banhao/internal/apperr"
)

// Shipment is what a courier company needs to accept a parcel: the
// recipient in full (the company's own courier may deliver it), the
// sender, and what is inside.
type Shipment struct {
	// Reference is the parcel ID. A carrier must treat a repeated
	// reference as the same shipment and return the same waybill number,
	// so that a retry after a lost answer never ships twice.
	Reference string
	Recipient string
	Phone     string
	Address   string
	// Sender, SenderPhone and SenderAddress are the center's.
	Sender        string
	SenderPhone   string
	SenderAddress string
	// Contents names the certificate inside, e.g. "营业执照（纸质证照）".
	Contents string
}

// Carrier is a courier company's booking interface: the one place where a
// real company's API (EMS, SF ...) plugs in, behind an adapter such as
// internal/express, without touching the parcel flow.
type Carrier interface {
	// Company is the company's name as printed on labels.
	Company() string
	// CreateShipment books a shipment and returns its waybill number.
	// An error with code apperr.Unavailable is passing (the company's
	// system is down, a timeout): the parcel stays waiting and is tried
	// again. Any other error is a refusal that staff must look at; it is
	// tried again too, after the cause is fixed.
	CreateShipment(ctx context.Context, s Shipment) (string, error)
}

// OwnCourier is the Carrier of a center whose own couriers deliver, with
// no courier company's system behind them: the waybill number is made
// from the parcel ID ("BH" and 12 hex digits of its random part).
type OwnCourier struct {
	// Name is the company printed on labels.
	Name string
}

var _ Carrier = OwnCourier{}

// Company implements Carrier.
func (o OwnCourier) Company() string { return o.Name }

// CreateShipment implements Carrier; it always succeeds for a parcel ID.
func (o OwnCourier) CreateShipment(_ context.Context, s Shipment) (string, error) {
	// Parcel IDs are "pc", 12 hex digits of milliseconds and 16 random ones.
	if len(s.Reference) < 2+12+12 {
		return "", apperr.New(apperr.Invalid, "件号无效")
	}
	return "BH" + strings.ToUpper(s.Reference[2+12:2+12+12]), nil
}
