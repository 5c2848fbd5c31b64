package cases

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/banhao/banhao/internal/apperr"
)

// testPNG encodes a small image with some texture, so that it has more
// than one IDAT row of data.
func testPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), uint8(x * y), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func testJPEG(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), uint8(x * y), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pdfDoc writes a PDF of the given objects, numbered from 1, with a
// correct cross-reference table; an object that is a []byte is a stream
// whose dictionary is the string before it.
func pdfDoc(objects ...any) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	var offsets []int
	for i := 0; i < len(objects); i++ {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s", len(offsets), objects[i])
		if i+1 < len(objects) {
			if data, ok := objects[i+1].([]byte); ok {
				fmt.Fprintf(&b, "\nstream\r\n%s\nendstream", data)
				i++
			}
		}
		b.WriteString("\nendobj\n")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

// pdfCatalog is a document with a page whose content is a short text,
// plus extra objects.
func pdfCatalog(catalogExtra string, extra ...any) []byte {
	content := []byte("BT /F1 24 Tf 72 720 Td (Hello) Tj ET")
	objs := []any{
		"<< /Type /Catalog /Pages 2 0 R " + catalogExtra + " >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>", len(content)), content,
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	return pdfDoc(append(objs, extra...)...)
}

func deflate(p []byte) []byte {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write(p)
	w.Close()
	return b.Bytes()
}

// objStm is an object stream holding one object, deflated unless filter
// says otherwise.
func objStm(obj string, filter string) []any {
	body := []byte("6 0 " + obj)
	data := deflate(body)
	switch filter {
	case "":
		filter = "/Filter /FlateDecode"
	case "none":
		filter, data = "", body
	}
	return []any{fmt.Sprintf("<< /Type /ObjStm /N 1 /First 4 %s /Length %d >>", filter, len(data)), data}
}

// noise is deterministic random bytes, as in a compressed image.
func noise(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestSniff(t *testing.T) {
	pdf, pngData, jpegData := pdfCatalog(""), testPNG(t), testJPEG(t)
	tests := []struct {
		name string
		head []byte
		want string
		code apperr.Code
	}{
		{"pdf", pdf, "application/pdf", ""},
		{"png", pngData, "image/png", ""},
		{"jpeg", jpegData, "image/jpeg", ""},
		{"only the first bytes count", pdf[:8], "application/pdf", ""},
		{"a .pdf that is a PNG is a PNG", pngData[:512], "image/png", ""},
		{"empty", nil, "", CodeFileEmpty},
		{"windows executable", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), "", CodeFileType},
		{"zip (also docx, xlsx)", []byte("PK\x03\x04\x14\x00\x06\x00"), "", CodeFileType},
		{"old word document", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), "", CodeFileType},
		{"html", []byte("<!DOCTYPE html><html><body>%PDF-1.7</body></html>"), "", CodeFileType},
		{"plain text", []byte("申请材料清单\n1. 身份证"), "", CodeFileType},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), "", CodeFileType},
		{"pdf magic not at the start", []byte(" %PDF-1.4\n"), "", CodeFileType},
		{"pdf magic cut short", []byte("%PDF"), "", CodeFileType},
		{"png signature cut short", pngData[:7], "", CodeFileType},
		{"jpeg magic cut short", jpegData[:2], "", CodeFileType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sniff(tt.head)
			if tt.code != "" {
				if !apperr.Is(err, tt.code) {
					t.Fatalf("Sniff = %q, %v; want code %s", got, err, tt.code)
				}
				if e, _ := apperr.As(err); e.Message == "" {
					t.Errorf("error %v has no message", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Sniff = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// readers are the ways a check is fed: whole, one byte at a time (every
// token straddles reads), odd chunks, and with the data and EOF at once.
var readers = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"one byte", iotest.OneByteReader},
	{"halves", iotest.HalfReader},
	{"eof with data", iotest.DataErrReader},
	{"7 bytes", func(r io.Reader) io.Reader { return &chunkReader{r: r, n: 7} }},
}

// chunkReader reads at most n bytes at a time.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

// check reads data through CheckedReader in every way and wants the same
// outcome each time: the bytes unchanged, or an error with code.
func check(t *testing.T, data []byte, contentType string, code apperr.Code) {
	t.Helper()
	for _, rd := range readers {
		got, err := io.ReadAll(CheckedReader(rd.wrap(bytes.NewReader(data)), contentType))
		switch {
		case code == "" && err != nil:
			t.Errorf("%s: read: %v", rd.name, err)
		case code == "" && !bytes.Equal(got, data):
			t.Errorf("%s: read %d bytes, want the %d given", rd.name, len(got), len(data))
		case code != "" && !apperr.Is(err, code):
			t.Errorf("%s: read error %v, want code %s", rd.name, err, code)
		}
	}
}

func TestSniffCheckedReaderImages(t *testing.T) {
	pngData, jpegData := testPNG(t), testJPEG(t)
	motion := append(append([]byte{}, jpegData...), noise(5000, 1)...) // a motion photo's video after the image
	tests := []struct {
		name string
		data []byte
		ct   string
		code apperr.Code
	}{
		{"png", pngData, "image/png", ""},
		{"png with bytes after IEND", append(append([]byte{}, pngData...), "trailing"...), "image/png", ""},
		{"png without IEND", pngData[:len(pngData)-12], "image/png", CodeFileType},
		{"png cut in its CRC", pngData[:len(pngData)-1], "image/png", CodeFileType},
		{"png cut in the middle", pngData[:len(pngData)/2], "image/png", CodeFileType},
		{"png signature only", pngData[:8], "image/png", CodeFileType},
		{"jpeg", jpegData, "image/jpeg", ""},
		{"jpeg with a video after it (motion photo)", motion, "image/jpeg", ""},
		{"jpeg without its end marker", jpegData[:len(jpegData)-2], "image/jpeg", CodeFileType},
		{"jpeg cut in the middle", jpegData[:len(jpegData)/2], "image/jpeg", CodeFileType},
		{"jpeg cut in its headers", jpegData[:40], "image/jpeg", CodeFileType},
		{"a png checked as a jpeg", pngData, "image/jpeg", CodeFileType},
		{"a jpeg checked as a png", jpegData, "image/png", CodeFileType},
		{"a png checked as a pdf", pngData, "application/pdf", CodeFileType},
		{"an unknown type", []byte("hello"), "text/plain", CodeFileType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, tt.data, tt.ct, tt.code) })
	}
}

func TestSniffCheckedReaderPDF(t *testing.T) {
	clean := pdfCatalog("")
	scan := noise(200_000, 2)
	// Names a scanner must not count in binary data: it is not syntax.
	copy(scan[1000:], " /JS (x) /JavaScript /Launch /XFA [")
	imageStream := []any{fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width 100 /Height 100 /Filter /DCTDecode /Length %d >>", len(scan)), scan}
	jsAction := "<< /S /JavaScript /JS (app.alert\\(1\\)) >>"

	tests := []struct {
		name string
		data []byte
		code apperr.Code
	}{
		{"clean", clean, ""},
		{"clean with trailing white space", append(append([]byte{}, clean...), "\r\n\r\n  \n"...), ""},
		{"clean with bytes after %%EOF", append(append([]byte{}, clean...), bytes.Repeat([]byte("x"), 900)...), ""},
		{"names that only look alike", pdfCatalog("/JSX 1 /JavaScripts 2 /Launcher 3 /XFAB 4 /J#53X 5"), ""},
		{"an image whose data has /JS in it", pdfCatalog("", imageStream...), ""},
		{"an object stream without scripts", pdfCatalog("", objStm("<< /Type /Annot /Subtype /Link >>", "")...), ""},

		{"open action JavaScript", pdfCatalog("/OpenAction 6 0 R", jsAction), CodePDFScript},
		{"/JS alone", pdfCatalog("/AA << /O << /JS (x) >> >>"), CodePDFScript},
		{"/JS at a line end", pdfCatalog("/AA << /O << /JS\n(x) >> >>"), CodePDFScript},
		{"launch action", pdfCatalog("/OpenAction << /S /Launch /F (cmd.exe) >>"), CodePDFScript},
		{"embedded file", pdfCatalog("", "<< /Type /EmbeddedFile /Length 0 >>", []byte{}), CodePDFScript},
		{"rich media", pdfCatalog("", "<< /Type /Annot /Subtype /RichMedia >>"), CodePDFScript},
		{"XFA form", pdfCatalog("/AcroForm << /Fields [] /XFA 7 0 R >>"), CodePDFScript},
		{"hex escaped /J#61vaScript", pdfCatalog("/OpenAction << /S /J#61vaScript /J#53 (x) >>"), CodePDFScript},
		{"every letter escaped", pdfCatalog("/Names << /#4A#61#76#61#53#63#72#69#70#74 7 0 R >>"), CodePDFScript},
		{"lower case hex escapes", pdfCatalog("/OpenAction << /S /#4a#61va#53cript >>"), CodePDFScript},
		{"names run together", pdfCatalog("/OpenAction<</S/JavaScript/JS(x)>>"), CodePDFScript},
		{"in an object stream", pdfCatalog("/OpenAction 6 0 R", objStm(jsAction, "")...), CodePDFScript},
		{"escaped in an object stream", pdfCatalog("", objStm("<< /S /J#61vaScript >>", "")...), CodePDFScript},
		{"in an uncompressed object stream", pdfCatalog("", objStm("<< /JS (x) >>", "none")...), CodePDFScript},
		{"an object stream that cannot be inflated", pdfCatalog("", objStm("<< /Foo 1 >>", "/Filter /ASCIIHexDecode")...), CodePDFScript},
		{"an object stream of bad Flate data", pdfCatalog("", "<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length 9 >>", []byte("not flate")), CodePDFScript},
		{"an action hidden in a stream's data", pdfCatalog("", "<< /Length 40 >>", []byte("<< /S /JavaScript /JS (app.alert(1)) >>")), CodePDFScript},
		{
			"a stream that never ends hides nothing from the next object",
			pdfDoc("<< /Type /Catalog /AA 2 0 R >> stream\r\n garbage", "<< /O << /JS (x) >> >>"),
			CodePDFScript,
		},

		{"cut before %%EOF", clean[:len(clean)-7], CodeFileType},
		{"cut in the middle", clean[:len(clean)/2], CodeFileType},
		{"%%EOF more than a KiB before the end", append(append([]byte{}, clean...), bytes.Repeat([]byte(" "), 1100)...), CodeFileType},
		{"magic only", []byte("%PDF-"), CodeFileType},
		{"not a pdf", []byte("%PDX-1.4 hello %%EOF"), CodeFileType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, tt.data, "application/pdf", tt.code) })
	}
}

// TestSniffCheckedReaderFailsEarly: a script is refused when its name goes by,
// not at the end, and the error sticks.
func TestSniffCheckedReaderFailsEarly(t *testing.T) {
	head := pdfCatalog("/OpenAction << /S /JavaScript /JS (x) >>")
	data := append(head, noise(1<<20, 3)...)
	r := CheckedReader(bytes.NewReader(data), "application/pdf")
	buf := make([]byte, 64<<10)
	n, err := r.Read(buf)
	if n != 0 || !apperr.Is(err, CodePDFScript) {
		t.Fatalf("first read = %d, %v; want 0 and code %s", n, err, CodePDFScript)
	}
	if _, err2 := r.Read(buf); err2 != err {
		t.Errorf("next read = %v, want the same error %v", err2, err)
	}
}

// TestSniffCheckedReaderKeepsReadErrors: a broken upload is the reader's error,
// not a content check's.
func TestSniffCheckedReaderKeepsReadErrors(t *testing.T) {
	clean := pdfCatalog("")
	r := CheckedReader(io.MultiReader(bytes.NewReader(clean[:100]), iotest.ErrReader(io.ErrUnexpectedEOF)), "application/pdf")
	if _, err := io.ReadAll(r); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("read error %v, want io.ErrUnexpectedEOF", err)
	}
}

// TestSniffCheckedReaderLargeScan: an 8 MiB scanned page passes, whatever
// its random data holds; it takes little memory.
func TestSniffCheckedReaderLargeScan(t *testing.T) {
	scan := noise(8<<20, 4)
	data := pdfCatalog("", fmt.Sprintf("<< /Type /XObject /Subtype /Image /Filter /DCTDecode /Length %d >>", len(scan)), scan)
	allocs := testing.AllocsPerRun(2, func() {
		if _, err := io.Copy(io.Discard, CheckedReader(bytes.NewReader(data), "application/pdf")); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 10 {
		t.Errorf("%v allocations to check %d bytes", allocs, len(data))
	}
}

func BenchmarkCheckedReader(b *testing.B) {
	scan := noise(4<<20, 5)
	pdf := pdfCatalog("", fmt.Sprintf("<< /Subtype /Image /Length %d >>", len(scan)), scan)
	syntax := pdfCatalog(strings.Repeat("/Rect [0 0 612 792] /Border [0 0 0] /F1 12 0 R ", 4<<20/48))
	photo := image.NewGray(image.Rect(0, 0, 2048, 2048))
	copy(photo.Pix, noise(len(photo.Pix), 6))
	var jpegData bytes.Buffer
	if err := jpeg.Encode(&jpegData, photo, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		data []byte
		ct   string
	}{{"pdf-image", pdf, "application/pdf"}, {"pdf-syntax", syntax, "application/pdf"}, {"jpeg", jpegData.Bytes(), "image/jpeg"}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := io.Copy(io.Discard, CheckedReader(bytes.NewReader(bc.data), bc.ct)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
