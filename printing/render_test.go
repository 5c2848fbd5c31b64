package printing

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/banhao/banhao/internal/apperr"
)

// sharedRenderer parses the fonts once for the whole test binary, as a
// server does.
var sharedRenderer = sync.OnceValues(NewRenderer)

func testRenderer(t testing.TB) *Renderer {
	t.Helper()
	r, err := sharedRenderer()
	if err != nil {
		t.Fatalf("NewRenderer: %v", err)
	}
	return r
}

// rareChars are name and address characters that fonts often lack: rare
// given-name characters, the square-metre sign, the ideographic zero, an
// Extension A character and one from beyond the BMP (Extension E, in the
// 通用规范汉字表) that Noto Serif SC has.
const rareChars = "喆堃赟珺昇㎡〇㐀𬌗"

const verifyBase = "https://zwfw.example.gov.cn/verify?payload="

// sampleDocument is a real-estate certificate carrying qr, with every
// rare character somewhere in the name or the fields.
func sampleDocument(qr string) Document {
	return Document{
		Title:      "不动产权证书",
		Number:     "鲁(2026)惠民县不动产权第0001234号",
		HolderName: "王堃喆",
		Fields: []Field{
			{Label: "共有情况", Value: "单独所有（共有人：李赟珺、张昇）"},
			{Label: "坐落", Value: "惠民县孙武街道〇号院3号楼2单元501室"},
			{Label: "不动产单元号", Value: "371621001001GB00001F00010001"},
			{Label: "权利类型", Value: "国有建设用地使用权/房屋所有权"},
			{Label: "面积", Value: "共有宗地面积12345.67㎡/房屋建筑面积123.45㎡"},
			{Label: "使用期限", Value: "2006年1月1日起2076年12月31日止"},
			{Label: "权利其他状况", Value: "原权利人：陈㐀、刘𬌗"},
		},
		Issuer:     "惠民县自然资源局",
		IssuedOn:   time.Date(2026, 3, 5, 0, 0, 0, 0, shanghai),
		ValidUntil: time.Date(2036, 3, 4, 0, 0, 0, 0, shanghai),
		QR:         qr,
		Note:       "本证书为测试样张。",
	}
}

func render(t *testing.T, d Document) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := testRenderer(t).Certificate(&b, d); err != nil {
		t.Fatalf("Certificate: %v", err)
	}
	return b.Bytes()
}

// poppler returns the path of a poppler-utils tool. Without it the test
// is skipped, except where BANHAO_REQUIRE_BROWSER=1 (CI, whose .ci/run
// installs poppler-utils): there it fails.
func poppler(t *testing.T, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("BANHAO_REQUIRE_BROWSER") == "1" {
			t.Fatalf("%s not found, and BANHAO_REQUIRE_BROWSER=1: install poppler-utils", tool)
		}
		t.Skipf("%s not found (Debian poppler-utils)", tool)
	}
	return path
}

// writePDF saves pdf in a fresh temporary directory and returns its path.
func writePDF(t *testing.T, pdf []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// rasterise renders the first page as pdftoppm -r 150 -png does.
func rasterise(t *testing.T, pdf []byte) image.Image {
	t.Helper()
	tool := poppler(t, "pdftoppm")
	in := writePDF(t, pdf)
	out := filepath.Join(filepath.Dir(in), "page")
	if b, err := exec.Command(tool, "-r", "150", "-png", "-singlefile", in, out).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, b)
	}
	f, err := os.Open(out + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode page: %v", err)
	}
	return img
}

// scanQR finds and decodes the QR code on a whole page, as a phone would.
func scanQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gzqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no QR code found on the page: %v", err)
	}
	return res.GetText()
}

// pdfText extracts the text layer with pdftotext.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	tool := poppler(t, "pdftotext")
	out, err := exec.Command(tool, "-enc", "UTF-8", writePDF(t, pdf), "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// TestCertificateScanVerifies is the whole path: sign, render with rare
// characters, rasterise at 150 dpi, decode the QR code from the page
// image, verify. An altered payload goes the same way and is caught.
func TestCertificateScanVerifies(t *testing.T) {
	keys := mustKeys(t, seedSpec("k2026"))
	p := samplePayload()
	compact, err := keys.Sign(p)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	tests := []struct {
		name    string
		compact string
		want    apperr.Code
	}{
		{"genuine", compact, ""},
		{"altered", tamper(t, compact, flipIn(t, "王*")), CodeForged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pdf := render(t, sampleDocument(verifyBase+tt.compact))
			text := scanQR(t, rasterise(t, pdf))
			payload, ok := strings.CutPrefix(text, verifyBase)
			if !ok || payload != tt.compact {
				t.Fatalf("QR code says %q, want %q", text, verifyBase+tt.compact)
			}
			got, err := Verify(keys.PublicKeys(), payload)
			if tt.want != "" {
				if !apperr.Is(err, tt.want) {
					t.Fatalf("Verify: err = %v, want %s", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.CertID != p.CertID || got.Holder != p.Holder || got.Number != p.Number || got.KeyID != "k2026" {
				t.Errorf("Verify = %+v", got)
			}
		})
	}
}

// TestRareCharactersPrinted checks that the rare characters are in the
// page's text layer, so they were drawn from the font, not blanked.
// Characters beyond the BMP (𬌗) are drawn from the right glyph but are
// left out: gopdf v0.33.0 writes their ToUnicode entries as five hex
// digits instead of a UTF-16 surrogate pair, so a text extractor reads
// them wrongly.
func TestRareCharactersPrinted(t *testing.T) {
	d := sampleDocument(verifyBase + "x")
	d.Copy = true
	text := pdfText(t, render(t, d))
	for _, c := range rareChars + "副本扫码验证" {
		if c > 0xFFFF {
			continue
		}
		if !strings.ContainsRune(text, c) {
			t.Errorf("%q (U+%04X) is not on the page", c, c)
		}
	}
	for _, s := range []string{"2026年3月5日", "2036年3月4日", "惠民县自然资源局"} {
		if !strings.Contains(text, s) {
			t.Errorf("%q is not on the page", s)
		}
	}
}

func TestGlyphMissing(t *testing.T) {
	// U+20000 and U+20BB7 are CJK Extension B characters that Noto Serif SC
	// lacks; U+0007 is a control character.
	tests := []struct {
		name  string
		edit  func(d *Document)
		char  string
		where string
		path  string
	}{
		{"holder name", func(d *Document) { d.HolderName = "王𠀀" }, "“𠀀”（U+20000）", "持证人", "holder_name"},
		{"field value", func(d *Document) { d.Fields[4].Value = "𠮷野家" }, "“𠮷”（U+20BB7）", "面积", "fields[4].value"},
		{"field label", func(d *Document) { d.Fields[0].Label = "共有𠀀" }, "U+20000", "第 1 项名称", "fields[0].label"},
		{"title", func(d *Document) { d.Title = "𠀀证" }, "U+20000", "证照名称", "title"},
		{"issuer", func(d *Document) { d.Issuer = "惠民县𠀀局" }, "U+20000", "发证机关", "issuer"},
		{"note", func(d *Document) { d.Note = "注意\a" }, "U+0007", "备注", "note"},
		{"invalid UTF-8", func(d *Document) { d.HolderName = "王\xff" }, "U+FFFD", "持证人", "holder_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := sampleDocument("x")
			tt.edit(&d)
			var b bytes.Buffer
			err := testRenderer(t).Certificate(&b, d)
			e, ok := apperr.As(err)
			if !ok || e.Code != CodeGlyphMissing {
				t.Fatalf("Certificate: err = %v, want %s", err, CodeGlyphMissing)
			}
			if !strings.Contains(e.Message, tt.char) || !strings.Contains(e.Message, tt.where) || !strings.HasPrefix(e.Message, "字符") {
				t.Errorf("message %q does not name %s in %s", e.Message, tt.char, tt.where)
			}
			if len(e.Fields) != 1 || e.Fields[0].Field != tt.path {
				t.Errorf("fields = %+v, want %s", e.Fields, tt.path)
			}
			if b.Len() != 0 {
				t.Errorf("%d bytes written despite the error", b.Len())
			}
		})
	}
	t.Run("label recipient", func(t *testing.T) {
		l := sampleLabel()
		l.Recipient = "𠀀*"
		err := testRenderer(t).Label(&bytes.Buffer{}, l)
		if e, ok := apperr.As(err); !ok || e.Code != CodeGlyphMissing || e.Fields[0].Field != "recipient" {
			t.Fatalf("Label: err = %v, want %s on recipient", err, CodeGlyphMissing)
		}
	})
}

func TestCertificateRejects(t *testing.T) {
	long := make([]Field, 30)
	for i := range long {
		long[i] = Field{Label: "项目", Value: "内容"}
	}
	tests := []struct {
		name string
		edit func(d *Document)
		code apperr.Code
		path string
	}{
		{"no title", func(d *Document) { d.Title = "" }, apperr.Invalid, "title"},
		{"no issue date", func(d *Document) { d.IssuedOn = time.Time{} }, apperr.Invalid, "issued_on"},
		{"no QR text", func(d *Document) { d.QR = "" }, apperr.Invalid, "qr"},
		{"QR text too long", func(d *Document) { d.QR = strings.Repeat("证", 2000) }, apperr.Invalid, "qr"},
		{"too many fields", func(d *Document) { d.Fields = long }, CodeOverflow, "fields"},
		{"very long value", func(d *Document) { d.Fields[0].Value = strings.Repeat("很长的内容", 200) }, CodeOverflow, "fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := sampleDocument("x")
			tt.edit(&d)
			err := testRenderer(t).Certificate(&bytes.Buffer{}, d)
			e, ok := apperr.As(err)
			if !ok || e.Code != tt.code {
				t.Fatalf("Certificate: err = %v, want %s", err, tt.code)
			}
			if len(e.Fields) == 0 || e.Fields[0].Field != tt.path {
				t.Errorf("fields = %+v, want %s", e.Fields, tt.path)
			}
		})
	}
}

// TestPDFIsSubset checks the file is a PDF whose fonts are embedded as
// subsets with a Unicode map: a whole Noto Serif SC file is 15 MB.
func TestPDFIsSubset(t *testing.T) {
	pdf := render(t, sampleDocument(verifyBase+"x"))
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("output starts %q", pdf[:min(len(pdf), 8)])
	}
	if len(pdf) > 300<<10 {
		t.Errorf("PDF is %d bytes; fonts are not subset", len(pdf))
	}
	t.Logf("certificate PDF: %d bytes", len(pdf))
	out, err := exec.Command(poppler(t, "pdffonts"), writePDF(t, pdf)).Output()
	if err != nil {
		t.Fatalf("pdffonts: %v", err)
	}
	var fonts int
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.Contains(line, "NotoSerifSC") {
			continue
		}
		fonts++
		// name, type ("CID TrueType"), encoding, emb, sub, uni, object, ID
		f := strings.Fields(line)
		if len(f) < 8 || f[len(f)-5] != "yes" || f[len(f)-4] != "yes" || f[len(f)-3] != "yes" {
			t.Errorf("font not embedded as a subset with a Unicode map: %s", line)
		}
	}
	// One font: each embedded font costs about 13 ms (see Certificate).
	if fonts != 1 {
		t.Errorf("%d fonts, want the regular face only:\n%s", fonts, out)
	}
}

func sampleLabel() Label {
	return Label{
		ParcelID:  "pc019c2a4b5d6e7f00",
		Tracking:  "SF1234567890123",
		Company:   "顺丰速运",
		Recipient: "王*喆",
		Phone:     "138****5678",
		Address:   "山东省滨州市惠民县孙武街道**路**号",
		From:      "惠民县政务服务中心（孙武街道乐安大街1号）",
		QR:        "pc019c2a4b5d6e7f00",
	}
}

func TestLabel(t *testing.T) {
	l := sampleLabel()
	var b bytes.Buffer
	if err := testRenderer(t).Label(&b, l); err != nil {
		t.Fatalf("Label: %v", err)
	}
	pdf := b.Bytes()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || len(pdf) > 300<<10 {
		t.Fatalf("label PDF: %d bytes starting %q", len(pdf), pdf[:min(len(pdf), 8)])
	}
	if got := scanQR(t, rasterise(t, pdf)); got != l.QR {
		t.Errorf("QR code says %q, want %q", got, l.QR)
	}
	info, err := exec.Command(poppler(t, "pdfinfo"), writePDF(t, pdf)).Output()
	if err != nil {
		t.Fatalf("pdfinfo: %v", err)
	}
	// 100 × 150 mm in points.
	if !strings.Contains(string(info), "283.46 x 425.2") {
		t.Errorf("page is not 100×150 mm:\n%s", info)
	}
	text := pdfText(t, pdf)
	for _, s := range []string{l.ParcelID, l.Tracking, l.Company, "王*喆", l.Phone} {
		if !strings.Contains(text, s) {
			t.Errorf("%q is not on the label", s)
		}
	}

	t.Run("address too long", func(t *testing.T) {
		l := sampleLabel()
		l.Address = strings.Repeat("很长的地址", 30)
		if err := testRenderer(t).Label(&bytes.Buffer{}, l); !apperr.Is(err, CodeOverflow) {
			t.Errorf("Label: err = %v, want %s", err, CodeOverflow)
		}
	})
	t.Run("no parcel id", func(t *testing.T) {
		l := sampleLabel()
		l.ParcelID = ""
		if err := testRenderer(t).Label(&bytes.Buffer{}, l); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("Label: err = %v, want %s", err, apperr.Invalid)
		}
	})
}

// TestConcurrentRender renders from several goroutines with one Renderer
// (run with -race): the shared parsed fonts must come out unharmed, so
// every copy of the same document is the same bytes.
func TestConcurrentRender(t *testing.T) {
	r := testRenderer(t)
	d := sampleDocument(verifyBase + "x")
	want := render(t, d)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 4 {
		wg.Go(func() {
			for j := range 2 {
				var b bytes.Buffer
				doc := d
				if (i+j)%2 == 1 {
					doc.HolderName = "李赟"
					if err := r.Label(&b, sampleLabel()); err != nil {
						errs <- err
					}
					continue
				}
				if err := r.Certificate(&b, doc); err != nil {
					errs <- err
				} else if !bytes.Equal(b.Bytes(), want) {
					errs <- errDiffer
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

var errDiffer = apperr.New(apperr.Internal, "concurrent render differs")

// BenchmarkCertificate is one certificate page from a warm Renderer.
func BenchmarkCertificate(b *testing.B) {
	r := testRenderer(b)
	keys := mustKeys(b, seedSpec("k2026"))
	compact, err := keys.Sign(samplePayload())
	if err != nil {
		b.Fatal(err)
	}
	d := sampleDocument(verifyBase + compact)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := r.Certificate(&buf, d); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "pdf-bytes")
}

// BenchmarkNewRenderer is the font parsing that Renderer does once; a
// renderer that parsed per document would add this to every page.
func BenchmarkNewRenderer(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewRenderer(); err != nil {
			b.Fatal(err)
		}
	}
}
