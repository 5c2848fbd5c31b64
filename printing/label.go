package printing

import (
	"io"

	"github.com/signintech/gopdf"
)

// Label is a parcel's shipping label. Recipient, Phone and Address are
// printed as given: the caller masks them (a label travels through many
// hands), and the courier finds the full details in the app.
type Label struct {
	// ParcelID is printed under the QR code.
	ParcelID string
	// Tracking is the courier company's waybill number, if it has one yet.
	Tracking  string
	Company   string
	Recipient string
	Phone     string
	Address   string
	// From names the sender, normally the center.
	From string
	// QR is the text the QR code carries, normally the parcel id or a
	// courier URL for it.
	QR string
}

// labelSize is a 100×150 mm thermal label, in mm (gopdf converts).
var labelSize = gopdf.Rect{W: 100, H: 150}

// Label writes l as a one-page 100×150 mm PDF to w: the courier company
// and waybill number, the recipient, the sender, and a large QR code with
// the parcel id under it. Errors are as for Certificate.
func (r *Renderer) Label(w io.Writer, l Label) error {
	if err := required(map[string]bool{"parcel_id": l.ParcelID == "", "recipient": l.Recipient == "", "address": l.Address == "", "qr": l.QR == ""}); err != nil {
		return err
	}
	p := r.newPage(labelSize)
	p.pdf.SetInfo(gopdf.PdfInfo{Title: "寄送面单 " + l.ParcelID, Creator: "banhao"})
	p.pdf.SetStrokeColor(0, 0, 0)
	p.pdf.SetTextColor(0, 0, 0)
	p.pdf.SetLineWidth(0.5)
	p.rect(3, 3, 94, 144, "D")

	// Courier company and waybill number.
	company := origin{"快递公司", "company"}
	p.setFont(fontBold, 16)
	if l.Company != "" && p.fitSize(company, l.Company, 16, 9, 86) == 0 {
		p.fail(overflow("company", "快递公司名称过长"))
	}
	p.text(company, l.Company, 7, 6, 86, 9, gopdf.Left|gopdf.Middle)
	if l.Tracking != "" {
		p.setFont(fontRegular, 10)
		p.text(origin{"运单号", "tracking"}, "运单号："+l.Tracking, 7, 16, 86, 6, gopdf.Left|gopdf.Middle)
	}
	p.line(3, 24, 97, 24)

	// Recipient: name and phone, then the address on up to three lines.
	p.pdf.SetFillColor(0, 0, 0)
	p.rect(6, 27, 9, 9, "F")
	p.pdf.SetTextColor(255, 255, 255)
	p.setFont(fontBold, 16)
	p.text(ours, "收", 6, 27, 9, 9, gopdf.Center|gopdf.Middle)
	p.pdf.SetTextColor(0, 0, 0)
	recipient := origin{"收件人", "recipient"}
	p.setFont(fontBold, 14)
	name := l.Recipient
	if l.Phone != "" {
		p.check(origin{"收件电话", "phone"}, l.Phone)
		name += "　" + l.Phone
	}
	if p.fitSize(recipient, name, 14, 9, 76) == 0 {
		p.fail(overflow("recipient", "收件人过长"))
	}
	p.text(recipient, name, 18, 27, 76, 9, gopdf.Left|gopdf.Middle)
	address := origin{"收件地址", "address"}
	p.setFont(fontRegular, 11)
	lines := p.wrap(address, l.Address, 76)
	if len(lines) > 3 {
		p.fail(overflow("address", "收件地址过长，面单上放不下"))
	}
	for i, s := range lines {
		p.text(address, s, 18, 38+float64(i)*5.5, 76, 5.5, gopdf.Left|gopdf.Middle)
	}
	p.line(3, 56, 97, 56)

	// Sender.
	if l.From != "" {
		p.rect(6, 59, 8, 8, "D")
		p.setFont(fontBold, 12)
		p.text(ours, "寄", 6, 59, 8, 8, gopdf.Center|gopdf.Middle)
		from := origin{"寄件人", "from"}
		p.setFont(fontRegular, 10)
		lines := p.wrap(from, l.From, 77)
		if len(lines) > 2 {
			p.fail(overflow("from", "寄件人过长，面单上放不下"))
		}
		for i, s := range lines {
			p.text(from, s, 17, 59+float64(i)*5, 77, 5, gopdf.Left|gopdf.Middle)
		}
	}
	p.line(3, 71, 97, 71)

	// The parcel's QR code, large enough to scan from a courier's phone at
	// arm's length, and its id in plain text for when the camera fails.
	p.qr(origin{"二维码", "qr"}, l.QR, 25, 77, 50)
	p.setFont(fontRegular, 10)
	parcel := origin{"件号", "parcel_id"}
	p.text(parcel, l.ParcelID, 7, 130, 86, 6, gopdf.Center|gopdf.Middle)
	p.setFont(fontRegular, 8)
	p.pdf.SetTextColor(90, 90, 90)
	p.text(ours, "证照寄送专用　签收前请核对收件人", 7, 139, 86, 5, gopdf.Center|gopdf.Middle)
	return p.finish(w)
}
