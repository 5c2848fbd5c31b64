package printing

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/signintech/gopdf"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/banhao/banhao/assets"
	"github.com/banhao/banhao/internal/apperr"
)

// Rendering error codes, part of the API contract.
const (
	// CodeGlyphMissing means a character has no glyph in the vendored
	// fonts; the message names the character and the field.
	CodeGlyphMissing apperr.Code = "glyph_missing"
	// CodeOverflow means the content does not fit on its one page.
	CodeOverflow apperr.Code = "print_overflow"
)

// Font families as registered in each document. gopdf writes the family
// as the PDF font name, so it carries a subset tag (six capitals and "+"),
// which tells viewers and preflight tools that only a subset is embedded.
const (
	fontRegular = "BANHAA+NotoSerifSC-Regular"
	fontBold    = "BANHAB+NotoSerifSC-Bold"
	// fontStrong is what certificates use for headings; see Certificate.
	fontStrong = fontRegular
)

var fontFiles = []struct{ family, path string }{
	{fontRegular, "fonts/NotoSerifSC-Regular.ttf"},
	{fontBold, "fonts/NotoSerifSC-Bold.ttf"},
}

// Renderer draws certificates and labels as PDF. The fonts are parsed once,
// in NewRenderer; each document takes a shallow copy of the parsed font
// (gopdf's FontContainer) and records only the glyphs it uses, so a page
// costs no font parsing and embeds a subset. A Renderer is safe for
// concurrent use: the shared parsed fonts are only read.
type Renderer struct {
	fonts *gopdf.FontContainer
}

// NewRenderer parses the vendored fonts from assets.FS.
func NewRenderer() (*Renderer, error) {
	fonts := &gopdf.FontContainer{}
	for _, f := range fontFiles {
		data, err := assets.FS.ReadFile(f.path)
		if err != nil {
			return nil, fmt.Errorf("printing: read font %s: %w", f.path, err)
		}
		err = fonts.AddTTFFontDataWithOption(f.family, data, gopdf.TtfOption{
			Style: gopdf.Regular,
			// gopdf prints a space for a character the font lacks. We check
			// every character before it reaches the page (see page.check);
			// should one slip through, keep it rather than blank it, so the
			// PDF shows the font's missing-glyph box instead of nothing.
			OnGlyphNotFoundSubstitute: func(r rune) rune { return r },
		})
		if err != nil {
			return nil, fmt.Errorf("printing: parse font %s: %w", f.path, err)
		}
	}
	return &Renderer{fonts: fonts}, nil
}

// Lazy is a Renderer made on first use: a server that never prints never
// parses the 30 MB of fonts, and one that does parses them once, shared
// by everything that prints (certificates, labels). Its zero value is
// ready to use and safe for concurrent use.
type Lazy struct {
	once sync.Once
	r    *Renderer
	err  error
}

func (l *Lazy) get() (*Renderer, error) {
	l.once.Do(func() { l.r, l.err = NewRenderer() })
	return l.r, l.err
}

// Certificate renders a certificate; see Renderer.Certificate.
func (l *Lazy) Certificate(w io.Writer, d Document) error {
	r, err := l.get()
	if err != nil {
		return err
	}
	return r.Certificate(w, d)
}

// Label renders a shipping label; see Renderer.Label.
func (l *Lazy) Label(w io.Writer, lb Label) error {
	r, err := l.get()
	if err != nil {
		return err
	}
	return r.Label(w, lb)
}

// page is one document being drawn, in millimetres with the origin at the
// top left. Drawing methods remember the first error and do nothing after
// it, so that layout code reads as a list of things to draw; finish reports
// the error.
type page struct {
	pdf   *gopdf.GoPdf
	fonts *gopdf.FontContainer
	added []string // font families added to pdf so far
	err   error
	font  string
	size  float64
}

func (r *Renderer) newPage(size gopdf.Rect) *page {
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: size, Unit: gopdf.UnitMM})
	pdf.AddPage()
	p := &page{pdf: pdf, fonts: r.fonts}
	p.setFont(fontRegular, 11)
	return p
}

// finish writes the PDF to w.
func (p *page) finish(w io.Writer) error {
	if p.err != nil {
		return p.err
	}
	if _, err := p.pdf.WriteTo(w); err != nil {
		return apperr.Wrap(apperr.Internal, "证照打印失败", fmt.Errorf("printing: write pdf: %w", err))
	}
	return nil
}

func (p *page) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

func (p *page) setFont(family string, size float64) {
	if p.err != nil {
		return
	}
	// A font is added on first use: every added font is embedded, and
	// compressing a subset of this size is most of a page's cost.
	if !slices.Contains(p.added, family) {
		if err := p.pdf.AddTTFFontFromFontContainer(family, p.fonts); err != nil {
			p.fail(apperr.Wrap(apperr.Internal, "证照打印失败", fmt.Errorf("printing: add font %s: %w", family, err)))
			return
		}
		p.added = append(p.added, family)
	}
	if err := p.pdf.SetFont(family, "", size); err != nil {
		p.fail(apperr.Wrap(apperr.Internal, "证照打印失败", fmt.Errorf("printing: set font %s: %w", family, err)))
		return
	}
	p.font, p.size = family, size
}

// origin names where a text came from, for error messages: a Chinese name
// for the person at the counter and the input path for the API.
type origin struct{ name, path string }

// ours is the origin of the layout's own fixed texts.
var ours = origin{"版式文字", "template"}

// check fails unless the current font has a glyph for every character of
// s.
func (p *page) check(field origin, s string) bool {
	if p.err != nil {
		return false
	}
	for _, r := range s {
		ok, err := p.pdf.IsCurrFontContainGlyph(r)
		if err != nil {
			p.fail(apperr.Wrap(apperr.Internal, "证照打印失败", fmt.Errorf("printing: glyph lookup: %w", err)))
			return false
		}
		if !ok {
			p.fail(glyphMissing(field, r))
			return false
		}
	}
	return true
}

// glyphMissing names the character, its code point and the field.
func glyphMissing(field origin, r rune) error {
	shown := fmt.Sprintf("“%c”（U+%04X）", r, r)
	if !unicode.IsGraphic(r) {
		shown = fmt.Sprintf("（U+%04X，不可见字符）", r)
	}
	msg := fmt.Sprintf("字符%s无法打印：证照字体中没有这个字（%s）。请核对录入，或联系管理员补充字体", shown, field.name)
	return &apperr.Error{
		Code:    CodeGlyphMissing,
		Message: msg,
		Fields:  []apperr.FieldError{{Field: field.path, Message: "含有无法打印的字符" + shown}},
	}
}

// width is the width of s in the current font, in mm.
func (p *page) width(field origin, s string) float64 {
	if !p.check(field, s) {
		return 0
	}
	w, err := p.pdf.MeasureTextWidth(s)
	if err != nil {
		p.fail(apperr.Wrap(apperr.Internal, "证照打印失败", fmt.Errorf("printing: measure text: %w", err)))
	}
	return w
}

// text draws s in the box x, y, w, h with gopdf's alignment flags.
func (p *page) text(field origin, s string, x, y, w, h float64, align int) {
	if s == "" || !p.check(field, s) {
		return
	}
	p.pdf.SetXY(x, y)
	if err := p.pdf.CellWithOption(&gopdf.Rect{W: w, H: h}, s, gopdf.CellOption{Align: align}); err != nil {
		p.fail(apperr.Wrap(apperr.Internal, "证照打印失败", fmt.Errorf("printing: draw text: %w", err)))
	}
}

// wrap breaks s into lines no wider than w, at any character (Chinese has
// no spaces to break at) or at a newline in s.
func (p *page) wrap(field origin, s string, w float64) []string {
	if !p.check(field, strings.ReplaceAll(s, "\n", "")) {
		return nil
	}
	var lines []string
	for para := range strings.SplitSeq(s, "\n") {
		var line []rune
		lineW := 0.0
		for _, r := range para {
			rw, err := p.pdf.MeasureTextWidth(string(r))
			if err != nil {
				p.fail(apperr.Wrap(apperr.Internal, "证照打印失败", fmt.Errorf("printing: measure text: %w", err)))
				return nil
			}
			if lineW+rw > w && len(line) > 0 {
				lines = append(lines, string(line))
				line, lineW = line[:0], 0
			}
			line = append(line, r)
			lineW += rw
		}
		lines = append(lines, string(line))
	}
	return lines
}

// fitSize is the largest font size, at most size and at least min, at which
// s fits in width w on one line; 0 if it does not fit even at min.
func (p *page) fitSize(field origin, s string, size, minSize, w float64) float64 {
	for ; size >= minSize; size -= 0.5 {
		p.setFont(p.font, size)
		if p.width(field, s) <= w || p.err != nil {
			return size
		}
	}
	return 0
}

func (p *page) rect(x, y, w, h float64, style string) {
	if p.err == nil {
		p.pdf.RectFromUpperLeftWithStyle(x, y, w, h, style)
	}
}

func (p *page) line(x1, y1, x2, y2 float64) {
	if p.err == nil {
		p.pdf.Line(x1, y1, x2, y2)
	}
}

// qr draws text as a QR code of side mm with its top-left corner at x, y,
// as vector squares (sharp at any printer resolution, and smaller than an
// image). It leaves no quiet zone: the layout keeps 4 modules of white
// around it. Dark modules in a row are merged into one rectangle.
func (p *page) qr(field origin, text string, x, y, side float64) {
	if p.err != nil {
		return
	}
	if text == "" {
		p.fail(apperr.Fields(apperr.FieldError{Field: field.path, Message: "二维码内容不能为空"}))
		return
	}
	code, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		p.fail(&apperr.Error{Code: apperr.Invalid, Message: "二维码内容过长", Fields: []apperr.FieldError{{Field: field.path, Message: "内容过长，无法生成二维码"}}, Err: err})
		return
	}
	code.DisableBorder = true
	bits := code.Bitmap()
	module := side / float64(len(bits))
	p.pdf.SetFillColor(0, 0, 0)
	for row, line := range bits {
		for col := 0; col < len(line); {
			if !line[col] {
				col++
				continue
			}
			start := col
			for col < len(line) && line[col] {
				col++
			}
			// A hair of overlap closes the seams some rasterisers leave
			// between touching squares.
			p.pdf.RectFromUpperLeftWithStyle(x+float64(start)*module, y+float64(row)*module, float64(col-start)*module+0.01, module+0.01, "F")
		}
	}
}

// arcText draws s along the upper part of a circle centred at cx, cy of
// radius r, centred on the top, each character upright towards the
// outside, as on a seal; span is the widest angle in degrees it may take.
func (p *page) arcText(field origin, s string, cx, cy, r, span float64) {
	runes := []rune(s)
	if len(runes) == 0 || !p.check(field, s) {
		return
	}
	// Characters advance by their size plus a little; shrink the size
	// until the whole arc fits in span.
	size := p.size
	step := func(size float64) float64 { return (size * 25.4 / 72 * 1.05) / r * 180 / math.Pi }
	for size > 6 && step(size)*float64(len(runes)-1) > span {
		size -= 0.5
	}
	p.setFont(p.font, size)
	charMM := size * 25.4 / 72
	total := step(size) * float64(len(runes)-1)
	for i, c := range runes {
		deg := -total/2 + step(size)*float64(i) // clockwise from the top
		rad := deg * math.Pi / 180
		px, py := cx+r*math.Sin(rad), cy-r*math.Cos(rad)
		p.pdf.Rotate(-deg, px, py)
		p.text(field, string(c), px-charMM/2, py-charMM/2, charMM, charMM, gopdf.Center|gopdf.Middle)
		p.pdf.RotateReset()
	}
}

// star fills a five-pointed star of outer radius r centred at cx, cy.
func (p *page) star(cx, cy, r float64) {
	if p.err != nil {
		return
	}
	pts := make([]gopdf.Point, 0, 10)
	for i := range 10 {
		rr := r
		if i%2 == 1 {
			rr = r * 0.382
		}
		a := float64(i) * math.Pi / 5
		pts = append(pts, gopdf.Point{X: cx + rr*math.Sin(a), Y: cy - rr*math.Cos(a)})
	}
	p.pdf.Polygon(pts, "F")
}
