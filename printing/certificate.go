package printing

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/signintech/gopdf"

	"github.com/banhao/banhao/internal/apperr"
)

// Document is one certificate to print, its texts as they appear on paper.
type Document struct {
	// Title is the certificate type as printed, e.g. "不动产权证书"; it
	// also picks the template.
	Title      string
	Number     string
	HolderName string
	// Fields are the type's own entries, printed in order as a table
	// below the holder.
	Fields   []Field
	Issuer   string
	IssuedOn time.Time
	// ValidUntil is the last valid date; zero prints "长期".
	ValidUntil time.Time
	// QR is the text the QR code carries, normally a verification URL
	// ending in the signed payload (see Keys.Sign).
	QR string
	// Copy marks a duplicate: a "副本" label and watermark.
	Copy bool
	Note string
}

// Field is one labelled entry of a certificate.
type Field struct {
	Label string
	Value string
}

// template is what differs between certificate types: for now the colour
// of the frame, title and seal-side rules, so that a clerk tells the types
// apart at a glance. The generic layout serves every type.
type template struct {
	accent [3]uint8
}

var (
	genericTemplate = template{accent: [3]uint8{38, 64, 120}}
	// templates are matched by a word in the title, first match wins.
	templates = []struct {
		word string
		t    template
	}{
		{"营业执照", template{accent: [3]uint8{150, 30, 30}}},
		{"不动产", template{accent: [3]uint8{30, 100, 60}}},
		{"许可证", template{accent: [3]uint8{120, 70, 20}}},
	}
)

func templateFor(title string) template {
	for _, t := range templates {
		if strings.Contains(title, t.word) {
			return t.t
		}
	}
	return genericTemplate
}

// Page geometry of a certificate, in mm on A4 (210×297).
const (
	certTableLeft   = 25.0
	certTableRight  = 185.0
	certTableTop    = 62.0
	certLabelWidth  = 34.0
	certTableBottom = 206.0 // the issuer, seal and QR block starts below
	certLineHeight  = 6.5
	certRowPad      = 2.2
	certQRSide      = 40.0
	certQRLeft      = 146.0
	certQRTop       = 216.0
	sealX, sealY    = 119.0, 236.0
	sealRadius      = 19.0
)

var sealRed = [3]uint8{200, 32, 32}

// Certificate writes d as a one-page A4 PDF to w: a framed page with the
// title, the number, a table of the holder and fields, the issuer with a
// seal-like circle, the dates, and the QR code bottom right with "扫码验证"
// under it. Nothing is written to w on error: a character the fonts lack
// fails with CodeGlyphMissing, content longer than one page with
// CodeOverflow.
//
// Certificates set their headings in the Regular face at larger sizes
// (fontStrong): gopdf embeds every font it uses with a full-size glyph
// table compressed at zlib's default level, about 13 ms a font, and one
// font keeps a page within the 30 ms budget a kiosk queue of citizens can
// wait for. Labels, printed one at a time at the window, keep Bold.
func (r *Renderer) Certificate(w io.Writer, d Document) error {
	if err := required(map[string]bool{"title": d.Title == "", "issuer": d.Issuer == "", "issued_on": d.IssuedOn.IsZero(), "qr": d.QR == ""}); err != nil {
		return err
	}
	p := r.newPage(*gopdf.PageSizeA4)
	tpl := templateFor(d.Title)
	p.pdf.SetInfo(gopdf.PdfInfo{Title: d.Title, Creator: "banhao", CreationDate: d.IssuedOn})

	if d.Copy {
		// Under everything else, so that it never hides a word.
		p.setFont(fontStrong, 120)
		p.pdf.SetTextColor(240, 222, 222)
		p.pdf.Rotate(30, 105, 150)
		p.text(ours, "副本", 35, 120, 140, 60, gopdf.Center|gopdf.Middle)
		p.pdf.RotateReset()
	}

	// Frame: a heavy outer and a hairline inner rule.
	p.pdf.SetStrokeColor(tpl.accent[0], tpl.accent[1], tpl.accent[2])
	p.pdf.SetLineWidth(1.2)
	p.rect(12, 12, 186, 273, "D")
	p.pdf.SetLineWidth(0.3)
	p.rect(15, 15, 180, 267, "D")

	if d.Copy {
		p.pdf.SetStrokeColor(sealRed[0], sealRed[1], sealRed[2])
		p.pdf.SetTextColor(sealRed[0], sealRed[1], sealRed[2])
		p.pdf.SetLineWidth(0.5)
		p.rect(165, 20, 22, 10, "D")
		p.setFont(fontStrong, 14)
		p.text(ours, "副本", 165, 20, 22, 10, gopdf.Center|gopdf.Middle)
	}

	// Title and number.
	p.pdf.SetTextColor(tpl.accent[0], tpl.accent[1], tpl.accent[2])
	p.setFont(fontStrong, 26)
	title := origin{"证照名称", "title"}
	if p.fitSize(title, d.Title, 26, 14, 140) == 0 {
		p.fail(overflow("title", "证照名称过长"))
	}
	p.text(title, d.Title, 25, 28, 160, 14, gopdf.Center|gopdf.Middle)
	p.pdf.SetTextColor(0, 0, 0)
	if d.Number != "" {
		p.setFont(fontRegular, 11)
		p.text(origin{"证照编号", "number"}, "编号："+d.Number, 25, 46, 160, 7, gopdf.Center|gopdf.Middle)
	}

	r.certTable(p, d, tpl)
	r.certFooter(p, d)
	return p.finish(w)
}

type certRow struct {
	label, value []string
	from         [2]origin
	height       float64
}

// certTable draws the holder and the fields as a two-column table, then
// the note; it fails with CodeOverflow rather than run into the footer.
func (r *Renderer) certTable(p *page, d Document, tpl template) {
	var rows []certRow
	add := func(label, value string, lf, vf origin) {
		p.setFont(fontStrong, 12)
		ls := p.wrap(lf, label, certLabelWidth-4)
		p.setFont(fontRegular, 12)
		vs := p.wrap(vf, value, certTableRight-certTableLeft-certLabelWidth-5)
		n := max(len(ls), len(vs), 1)
		rows = append(rows, certRow{label: ls, value: vs, from: [2]origin{lf, vf}, height: float64(n)*certLineHeight + 2*certRowPad})
	}
	if d.HolderName != "" {
		add("持证人", d.HolderName, ours, origin{"持证人", "holder_name"})
	}
	for i, f := range d.Fields {
		add(f.Label, f.Value,
			origin{fmt.Sprintf("第 %d 项名称", i+1), fmt.Sprintf("fields[%d].label", i)},
			origin{fieldName(f.Label, i), fmt.Sprintf("fields[%d].value", i)})
	}
	var note []string
	noteFrom := origin{"备注", "note"}
	if d.Note != "" {
		p.setFont(fontRegular, 10)
		note = p.wrap(noteFrom, "备注："+d.Note, certTableRight-certTableLeft)
	}
	if p.err != nil {
		return
	}
	total := 0.0
	for _, row := range rows {
		total += row.height
	}
	if certTableTop+total+float64(len(note))*5.5+3 > certTableBottom {
		p.fail(overflow("fields", fmt.Sprintf("证照内容过多，一页 A4 放不下（表格 %d 行、备注 %d 行）", len(rows), len(note))))
		return
	}

	y := certTableTop
	p.pdf.SetStrokeColor(tpl.accent[0], tpl.accent[1], tpl.accent[2])
	p.pdf.SetLineWidth(0.3)
	for _, row := range rows {
		// A tinted label column, then the rules.
		p.pdf.SetFillColor(tint(tpl.accent[0]), tint(tpl.accent[1]), tint(tpl.accent[2]))
		p.rect(certTableLeft, y, certLabelWidth, row.height, "F")
		p.rect(certTableLeft, y, certTableRight-certTableLeft, row.height, "D")
		p.line(certTableLeft+certLabelWidth, y, certTableLeft+certLabelWidth, y+row.height)
		p.setFont(fontStrong, 12)
		for i, s := range row.label {
			p.text(row.from[0], s, certTableLeft+2, y+certRowPad+float64(i)*certLineHeight, certLabelWidth-4, certLineHeight, gopdf.Center|gopdf.Middle)
		}
		p.setFont(fontRegular, 12)
		for i, s := range row.value {
			p.text(row.from[1], s, certTableLeft+certLabelWidth+3, y+certRowPad+float64(i)*certLineHeight, certTableRight-certTableLeft-certLabelWidth-5, certLineHeight, gopdf.Left|gopdf.Middle)
		}
		y += row.height
	}
	y += 3
	p.setFont(fontRegular, 10)
	for _, s := range note {
		p.text(noteFrom, s, certTableLeft, y, certTableRight-certTableLeft, 5.5, gopdf.Left|gopdf.Middle)
		y += 5.5
	}
}

// certFooter draws the issuer and dates (left), the seal (middle), the QR
// code (right) and the verification hint.
func (r *Renderer) certFooter(p *page, d Document) {
	issuer := origin{"发证机关", "issuer"}
	p.pdf.SetTextColor(0, 0, 0)
	p.setFont(fontRegular, 11)
	y := 220.0
	lines := p.wrap(issuer, d.Issuer, 56)
	if len(lines) > 2 {
		p.fail(overflow("issuer", "发证机关名称过长"))
	}
	p.text(ours, "发证机关：", 25, y, 20, 6, gopdf.Left|gopdf.Middle)
	for _, s := range lines {
		p.text(issuer, s, 45, y, 56, 6, gopdf.Left|gopdf.Middle)
		y += 6.5
	}
	y = max(y, 226.5) + 3
	p.text(ours, "发证日期："+chineseDate(d.IssuedOn), 25, y, 80, 6, gopdf.Left|gopdf.Middle)
	until := "长期"
	if !d.ValidUntil.IsZero() {
		until = chineseDate(d.ValidUntil)
	}
	p.text(ours, "有效期至："+until, 25, y+7, 80, 6, gopdf.Left|gopdf.Middle)

	// The seal-like circle: the issuer around the top, a star, and what it
	// is, in red over whatever lies beneath, as a paper seal would be.
	p.pdf.SetStrokeColor(sealRed[0], sealRed[1], sealRed[2])
	p.pdf.SetTextColor(sealRed[0], sealRed[1], sealRed[2])
	p.pdf.SetFillColor(sealRed[0], sealRed[1], sealRed[2])
	p.pdf.SetLineWidth(0.9)
	if p.err == nil {
		p.pdf.Oval(sealX-sealRadius, sealY-sealRadius, sealX+sealRadius, sealY+sealRadius)
	}
	p.setFont(fontStrong, 12)
	p.arcText(issuer, d.Issuer, sealX, sealY, sealRadius-5, 240)
	p.star(sealX, sealY, 5.5)
	p.setFont(fontStrong, 8)
	p.text(ours, "电子证照", sealX-15, sealY+7, 30, 5, gopdf.Center|gopdf.Middle)

	// QR code and its caption.
	p.qr(origin{"二维码", "qr"}, d.QR, certQRLeft, certQRTop, certQRSide)
	p.pdf.SetTextColor(0, 0, 0)
	p.setFont(fontRegular, 10)
	p.text(ours, "扫码验证", certQRLeft, certQRTop+certQRSide+1.5, certQRSide, 5, gopdf.Center|gopdf.Middle)

	p.pdf.SetTextColor(90, 90, 90)
	p.setFont(fontRegular, 8)
	p.text(ours, "本证照可扫描右下角二维码核验真伪、状态与有效期", 25, 270, 160, 5, gopdf.Center|gopdf.Middle)
}

func fieldName(label string, i int) string {
	if label != "" {
		return label
	}
	return fmt.Sprintf("第 %d 项", i+1)
}

// tint is a very light shade of an accent channel, for the label column.
func tint(c uint8) uint8 { return uint8(255 - (255-int(c))/12) }

func chineseDate(t time.Time) string {
	y, m, d := t.Date()
	return fmt.Sprintf("%d年%d月%d日", y, int(m), d)
}

// required fails with an Invalid error naming every empty required field,
// in a stable order.
func required(empty map[string]bool) error {
	var fields []apperr.FieldError
	for _, name := range slices.Sorted(maps.Keys(empty)) {
		if empty[name] {
			fields = append(fields, apperr.FieldError{Field: name, Message: "不能为空"})
		}
	}
	if len(fields) > 0 {
		return apperr.Fields(fields...)
	}
	return nil
}

func overflow(path, msg string) error {
	return &apperr.Error{Code: CodeOverflow, Message: msg, Fields: []apperr.FieldError{{Field: path, Message: msg}}}
}
