package cases

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"

	"github.com/banhao/banhao/internal/apperr"
)

// The content types of accepted materials, as Sniff names them.
const (
	typePDF  = "application/pdf"
	typeJPEG = "image/jpeg"
	typePNG  = "image/png"
)

var (
	magicPDF  = []byte("%PDF-")
	magicJPEG = []byte{0xFF, 0xD8, 0xFF}
	magicPNG  = []byte("\x89PNG\r\n\x1a\n")
)

func errFileType() error {
	return apperr.New(CodeFileType, "只接受 PDF、JPG 或 PNG 格式的文件")
}

func errFileBroken() error {
	return apperr.New(CodeFileType, "文件不完整或已损坏，请重新上传")
}

func errPDFActive() error {
	return apperr.New(CodePDFScript, "PDF 含有脚本、附件或自动执行的内容，不能受理；请用“打印为 PDF”另存后重新上传")
}

func errPDFUnchecked() error {
	return apperr.New(CodePDFScript, "PDF 含有无法检查的压缩或加密内容，不能受理；请用“打印为 PDF”另存后重新上传")
}

// Sniff names the type of an upload from its first bytes (512 are
// enough): application/pdf, image/jpeg or image/png, by their magic
// numbers. The name and the declared type of a file are never trusted: a
// PNG called .pdf is a PNG, and anything else (an EXE, a ZIP, a Word
// file, HTML, text) is CodeFileType. No bytes at all is CodeFileEmpty.
func Sniff(head []byte) (contentType string, err error) {
	switch {
	case len(head) == 0:
		return "", ErrFileEmpty()
	case bytes.HasPrefix(head, magicPDF):
		return typePDF, nil
	case bytes.HasPrefix(head, magicJPEG):
		return typeJPEG, nil
	case bytes.HasPrefix(head, magicPNG):
		return typePNG, nil
	}
	return "", errFileType()
}

// CheckedReader passes r's bytes through while checking them as a file of
// contentType, as sniffed by Sniff; r must start at the file's first byte.
// Read returns an apperr error as soon as a check fails, so that a
// FileStore reading it stores nothing:
//
//   - a PDF naming active content (/JavaScript, /JS, /Launch,
//     /EmbeddedFile, /RichMedia, /XFA, #xx escapes decoded) is
//     CodePDFScript, as is one whose object streams cannot be inflated
//     and checked (encrypted, or with a filter other than Flate);
//   - a file that does not end as its type must (a PDF without %%EOF in
//     its last KiB, a PNG without its IEND chunk, a JPEG without its end
//     marker: a broken upload from a phone) is CodeFileType. Bytes after
//     a JPEG's end marker, such as the video of a motion photo, are let be.
//
// Any other content type is CodeFileType. The check keeps a few KiB of
// state whatever the file's size, except that a PDF's object streams
// (usually some KiB) are read whole, up to 8 MiB.
//
// The PDF check looks for names the way pdfid does, not with a PDF
// parser: it skips the data of streams (where a stray "/JS" in image data
// would refuse one scanned file in a hundred), and there counts only the
// syntax a viewer needs to act, such as /S /JavaScript. A file crafted to
// mislead a sequential scan can still hide a name, so viewers of uploaded
// PDFs should keep scripts off too.
func CheckedReader(r io.Reader, contentType string) io.Reader {
	c := &checkedReader{r: r}
	switch contentType {
	case typePDF:
		c.check = &pdfCheck{}
	case typeJPEG:
		c.check = &jpegCheck{}
	case typePNG:
		c.check = &pngCheck{}
	default:
		c.err = errFileType()
	}
	return c
}

// contentCheck inspects a file as it goes by.
type contentCheck interface {
	// write takes the next bytes of the file.
	write(p []byte) error
	// end is called once the whole file was written.
	end() error
}

type checkedReader struct {
	r     io.Reader
	check contentCheck
	err   error // sticky: once a check fails, every Read fails
}

func (c *checkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	if n > 0 {
		if cerr := c.check.write(p[:n]); cerr != nil {
			c.err = cerr
			return 0, cerr
		}
	}
	if err == io.EOF {
		if cerr := c.check.end(); cerr != nil {
			c.err = cerr
			return 0, cerr
		}
	}
	if err != nil {
		c.err = err
	}
	return n, err
}

// PNG: the signature, then chunks (length, type, data, CRC) up to IEND.

type pngCheck struct {
	state int // pngSig, pngHead, pngBody or pngDone
	k     int // bytes of the signature or chunk header read
	head  [8]byte
	left  int64 // bytes left in the chunk's data and CRC
	iend  bool  // the chunk is IEND
}

const (
	pngSig = iota
	pngHead
	pngBody
	pngDone
)

func (s *pngCheck) write(p []byte) error {
	for i := 0; i < len(p); i++ {
		switch s.state {
		case pngSig:
			if p[i] != magicPNG[s.k] {
				return errFileType()
			}
			if s.k++; s.k == len(magicPNG) {
				s.state, s.k = pngHead, 0
			}
		case pngHead:
			s.head[s.k] = p[i]
			if s.k++; s.k < len(s.head) {
				continue
			}
			n := binary.BigEndian.Uint32(s.head[:4])
			if n > 1<<31-1 {
				return errFileBroken()
			}
			s.left, s.iend, s.state = int64(n)+4, string(s.head[4:]) == "IEND", pngBody
		case pngBody:
			k := min(s.left, int64(len(p)-i))
			s.left -= k
			i += int(k) - 1
			if s.left == 0 {
				s.state, s.k = pngHead, 0
				if s.iend {
					s.state = pngDone
				}
			}
		case pngDone:
			return nil
		}
	}
	return nil
}

func (s *pngCheck) end() error {
	if s.state != pngDone {
		return errFileBroken()
	}
	return nil
}

// JPEG: SOI, then segments (marker, length, data); after a scan header
// (SOS) comes entropy-coded data, in which 0xFF is followed by 0x00 or a
// restart marker, or starts the next marker; EOI ends the image.

type jpegCheck struct {
	state int
	hi    byte // the high byte of a segment length
	left  int  // bytes left in the segment
	scan  bool // the segment is a scan header: entropy-coded data follows
}

const (
	jpegSOI0   = iota // expecting 0xFF
	jpegSOI1          // expecting 0xD8
	jpegMarker        // expecting 0xFF before a marker
	jpegCode          // after 0xFF: the marker's code
	jpegLen1
	jpegLen2
	jpegSkip // in a segment's data
	jpegData // in entropy-coded data
	jpegDataFF
	jpegDone
)

func (s *jpegCheck) write(p []byte) error {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch s.state {
		case jpegSOI0, jpegSOI1:
			if c != magicJPEG[s.state] {
				return errFileType()
			}
			s.state++
		case jpegMarker:
			// Bytes other than 0xFF between segments are skipped, as
			// decoders do ("extraneous bytes before marker").
			if c == 0xFF {
				s.state = jpegCode
			}
		case jpegCode, jpegDataFF:
			inData := s.state == jpegDataFF
			switch {
			case c == 0xFF: // a fill byte: still after 0xFF
			case c == 0xD9: // EOI
				s.state = jpegDone
				return nil
			case inData && (c == 0x00 || c >= 0xD0 && c <= 0xD7):
				// A stuffed zero or a restart marker: the data goes on.
				s.state = jpegData
			case c == 0x00 || c == 0x01 || c >= 0xD0 && c <= 0xD8:
				s.state = jpegMarker // markers without a segment
			default:
				s.scan = c == 0xDA
				s.state = jpegLen1
			}
		case jpegLen1:
			s.hi, s.state = c, jpegLen2
		case jpegLen2:
			n := int(s.hi)<<8 | int(c)
			if n < 2 {
				return errFileBroken()
			}
			s.left, s.state = n-2, jpegSkip
			if s.left == 0 {
				s.state = s.afterSegment()
			}
		case jpegSkip:
			k := min(s.left, len(p)-i)
			s.left -= k
			i += k - 1
			if s.left == 0 {
				s.state = s.afterSegment()
			}
		case jpegData:
			j := bytes.IndexByte(p[i:], 0xFF)
			if j < 0 {
				return nil
			}
			i += j
			s.state = jpegDataFF
		case jpegDone:
			return nil
		}
	}
	return nil
}

func (s *jpegCheck) afterSegment() int {
	if s.scan {
		return jpegData
	}
	return jpegMarker
}

func (s *jpegCheck) end() error {
	if s.state != jpegDone {
		return errFileBroken()
	}
	return nil
}

// PDF.

// Byte classes of PDF syntax.
const (
	pdfRegular = iota
	pdfSpace
	pdfDelim
)

var pdfClass = func() (t [256]uint8) {
	for _, c := range []byte{0, '\t', '\n', '\f', '\r', ' '} {
		t[c] = pdfSpace
	}
	for _, c := range []byte("()<>[]{}/%") {
		t[c] = pdfDelim
	}
	return t
}()

func pdfIsSpace(c byte) bool   { return pdfClass[c] == pdfSpace }
func pdfIsRegular(c byte) bool { return pdfClass[c] == pdfRegular }

// pdfNameKind is what a PDF name means to the check.
type pdfNameKind uint8

const (
	pnNone  pdfNameKind = iota // no name
	pnOther                    // a name of no interest
	// Active content.
	pnJavaScript
	pnJS
	pnLaunch
	pnEmbeddedFile
	pnRichMedia
	pnXFA
	// The keys that name what the active ones are.
	pnS
	pnType
	pnSubtype
	// What a stream dictionary says of its data.
	pnObjStm // object stream: /Type /ObjStm, or its /First
	pnFlate
	pnFilter // another filter: the data cannot be read
)

// pdfName returns the kind of the name n.
func pdfName(n []byte) pdfNameKind {
	switch string(n) {
	case "JavaScript":
		return pnJavaScript
	case "JS":
		return pnJS
	case "Launch":
		return pnLaunch
	case "EmbeddedFile":
		return pnEmbeddedFile
	case "RichMedia":
		return pnRichMedia
	case "XFA":
		return pnXFA
	case "S":
		return pnS
	case "Type":
		return pnType
	case "Subtype":
		return pnSubtype
	case "ObjStm", "First":
		return pnObjStm
	case "FlateDecode", "Fl":
		return pnFlate
	case "ASCIIHexDecode", "AHx", "ASCII85Decode", "A85", "LZWDecode", "LZW", "RunLengthDecode", "RL",
		"CCITTFaxDecode", "CCF", "DCTDecode", "DCT", "JBIG2Decode", "JPXDecode", "Crypt", "DecodeParms", "DP":
		return pnFilter
	}
	return pnOther
}

// pdfMaxName is the longest name worth decoding: longer ones are pnOther.
const pdfMaxName = 16

func (k pdfNameKind) active() bool { return k >= pnJavaScript && k <= pnXFA }

// pdfActiveSyntax reports whether a name k right after the name prev is the
// syntax a viewer needs to act: an action's type, an attachment's type,
// a rich media annotation.
func pdfActiveSyntax(prev, k pdfNameKind) bool {
	switch k {
	case pnJavaScript, pnLaunch:
		return prev == pnS
	case pnEmbeddedFile:
		return prev == pnType
	case pnRichMedia:
		return prev == pnSubtype
	}
	return false
}

// pdfNameScan finds the names in PDF syntax, decoding #xx escapes.
type pdfNameScan struct {
	in   bool
	esc  uint8 // 1 after '#', 2 after '#' and a hex digit
	hi   byte  // that hex digit
	n    int   // decoded length, which may pass len(buf)
	buf  [pdfMaxName]byte
	last pdfNameKind // the name before, if only white space followed it
}

func (s *pdfNameScan) add(c byte) {
	if s.n < pdfMaxName {
		s.buf[s.n] = c
	}
	s.n++
}

func pdfUnhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// feed takes the next byte; if it ends a name, feed returns the name's
// kind, the kind of the name right before it (white space between), and
// true.
func (s *pdfNameScan) feed(c byte) (k, prev pdfNameKind, ok bool) {
	if s.in {
		switch s.esc {
		case 1:
			if _, hex := pdfUnhex(c); hex {
				s.hi, s.esc = c, 2
				return
			}
			s.add('#') // not an escape: the '#' stands for itself
			s.esc = 0
		case 2:
			if lo, hex := pdfUnhex(c); hex {
				hi, _ := pdfUnhex(s.hi)
				s.add(hi<<4 | lo)
				s.esc = 0
				return
			}
			s.add('#')
			s.add(s.hi)
			s.esc = 0
		}
		if pdfIsRegular(c) {
			if c == '#' {
				s.esc = 1
			} else {
				s.add(c)
			}
			return
		}
		k, prev, ok = s.finish(), s.last, true
		s.last = k
	}
	switch {
	case c == '/':
		s.in, s.n = true, 0
	case !pdfIsSpace(c):
		s.last = pnNone
	}
	return k, prev, ok
}

// take adds the plain bytes at the start of p to the name being read and
// returns how many it took.
func (s *pdfNameScan) take(p []byte) int {
	if s.esc != 0 {
		return 0
	}
	n := 0
	for n < len(p) && pdfClass[p[n]] == pdfRegular && p[n] != '#' {
		s.add(p[n])
		n++
	}
	return n
}

// finish ends the name being read and returns its kind.
func (s *pdfNameScan) finish() pdfNameKind {
	if s.esc > 0 {
		s.add('#')
		if s.esc == 2 {
			s.add(s.hi)
		}
	}
	s.in, s.esc = false, 0
	if s.n > pdfMaxName {
		return pnOther
	}
	return pdfName(s.buf[:s.n])
}

func (s *pdfNameScan) reset() { *s = pdfNameScan{} }

// scanNames looks for active names in PDF object syntax.
func (s *pdfNameScan) scanNames(p []byte) error {
	for _, c := range p {
		if k, _, ok := s.feed(c); ok && k.active() {
			return errPDFActive()
		}
	}
	return nil
}

// endNames ends a scanNames at the end of its text.
func (s *pdfNameScan) endNames() error {
	if s.in && s.finish().active() {
		return errPDFActive()
	}
	return nil
}

// The modes of the PDF check.
const (
	pdfTop    = iota // in object syntax: every name counts
	pdfStream        // in a stream's data: only pdfActiveSyntax counts
	pdfObjStm        // in an object stream's data: kept and read at its end
)

// Limits on reading object streams.
const (
	pdfMaxObjStm   = 8 << 20  // compressed
	pdfMaxInflated = 64 << 20 // inflated
	pdfTailBytes   = 1024     // where %%EOF must be
)

// Keywords as the last bytes of pdfCheck.win.
var (
	pdfKwStream   = binary.BigEndian.Uint64([]byte("\x00\x00stream"))
	pdfKwNdstream = binary.BigEndian.Uint64([]byte("ndstream"))
	pdfKwObj      = uint64(binary.BigEndian.Uint32([]byte("\x00obj")))
	pdfTrailer    = []byte("%%EOF")
)

const (
	pdfStream48 = uint64(1)<<48 - 1
	pdfObj24    = uint64(1)<<24 - 1
)

// pdfCheck reads a PDF sequentially, looking for names. Between streams
// every active name refuses the file. A stream's data starts at the
// keyword stream after a dictionary's ">>" and ends at endstream, or at
// an object header ("12 0 obj") should a crafted file not end it. An
// object stream (PDF 1.5 and later keep most objects in these, deflated)
// is kept whole and inflated, and its objects checked like the rest.
type pdfCheck struct {
	seen  int64  // bytes so far
	win   uint64 // the last 8 bytes, the newest lowest
	w9    byte   // the byte before them
	mode  int
	names pdfNameScan

	afterDict bool // ">>" and then only white space so far
	objStm    bool // the names since the last object header make an object stream
	flate     bool // ... compressed with Flate
	filter    bool // ... or with something else

	objstm []byte // the data of the object stream being read

	tail  [pdfTailBytes]byte
	tailN int
}

func (s *pdfCheck) write(p []byte) error {
	s.keepTail(p)
	for k := 0; s.seen+int64(k) < int64(len(magicPDF)) && k < len(p); k++ {
		if p[k] != magicPDF[s.seen+int64(k)] {
			return errFileType()
		}
	}
	s.seen += int64(len(p))
	start := 0 // where object stream data in p starts
	for i := 0; i < len(p); {
		switch s.mode {
		case pdfTop:
			// Bytes of keywords and numbers only matter once the
			// white space or delimiter after them comes; those of a
			// name are taken as they are, up to an escape.
			j := i
			if s.names.in {
				j += s.names.take(p[i:])
			} else {
				for j < len(p) && pdfClass[p[j]] == pdfRegular {
					j++
				}
			}
			s.shift(p[i:j])
			if i = j; i == len(p) {
				continue
			}
			c := p[i]
			s.shift(p[i : i+1])
			i++
			if err := s.top(c); err != nil {
				return err
			}
			start = i
		case pdfStream:
			if !s.names.in && s.names.last == pnNone {
				j := i
				for j < len(p) && !pdfStreamTrigger[p[j]] {
					j++
				}
				s.shift(p[i:j])
				if i = j; i == len(p) {
					continue
				}
			}
			c := p[i]
			s.shift(p[i : i+1])
			i++
			if s.endStream() || c == 'j' && s.objHeader() {
				s.toTop()
				continue
			}
			if k, prev, ok := s.names.feed(c); ok && pdfActiveSyntax(prev, k) {
				return errPDFActive()
			}
		case pdfObjStm:
			j := bytes.IndexByte(p[i:], 'm')
			if j < 0 {
				s.shift(p[i:])
				i = len(p)
				continue
			}
			s.shift(p[i : i+j+1])
			i += j + 1
			if s.endStream() {
				s.objstm = append(s.objstm, p[start:i]...)
				if err := s.readObjStm(); err != nil {
					return err
				}
				s.toTop()
			}
		}
	}
	if s.mode == pdfObjStm {
		if s.objstm = append(s.objstm, p[start:]...); len(s.objstm) > pdfMaxObjStm {
			return errPDFUnchecked()
		}
	}
	return nil
}

// pdfStreamTrigger marks the bytes that matter in a stream's data: the
// start of a name, the last letters of endstream and of obj.
var pdfStreamTrigger = [256]bool{'/': true, 'm': true, 'j': true}

// shift adds p to the window of the last bytes.
func (s *pdfCheck) shift(p []byte) {
	if len(p) >= 9 {
		s.w9, s.win = p[len(p)-9], binary.BigEndian.Uint64(p[len(p)-8:])
		return
	}
	for _, c := range p {
		s.w9, s.win = byte(s.win>>56), s.win<<8|uint64(c)
	}
}

// top takes a byte of object syntax, already in the window: a delimiter,
// white space, or a byte of a name.
func (s *pdfCheck) top(c byte) error {
	if k, _, ok := s.names.feed(c); ok {
		switch {
		case k.active():
			return errPDFActive()
		case k == pnObjStm:
			s.objStm = true
		case k == pnFlate:
			s.flate = true
		case k == pnFilter:
			s.filter = true
		}
	}
	if pdfIsRegular(c) {
		return nil // in a name
	}
	before := byte(s.win >> 8)
	if pdfIsRegular(before) {
		// c ends a keyword, a number or a name: stream after a
		// dictionary starts a stream's data, "0 obj" a new object.
		w := s.win >> 8
		if s.afterDict && pdfIsSpace(c) && w&pdfStream48 == pdfKwStream && !pdfIsRegular(byte(w>>48)) {
			s.names.reset()
			s.mode = pdfStream
			if s.objStm {
				s.mode, s.objstm = pdfObjStm, s.objstm[:0]
			}
			return nil
		}
		if w&pdfObj24 == pdfKwObj && pdfIsSpace(byte(w>>24)) && byte(w>>32)-'0' <= 9 {
			s.objStm, s.flate, s.filter = false, false, false
		}
		s.afterDict = false
	}
	switch {
	case c == '>' && before == '>':
		s.afterDict = true
	case !pdfIsSpace(c):
		s.afterDict = false
	}
	return nil
}

// endStream reports whether the last bytes are the keyword endstream.
func (s *pdfCheck) endStream() bool {
	return s.win == pdfKwNdstream && s.w9 == 'e'
}

// objHeader reports whether the last bytes end an object header, "0 obj".
func (s *pdfCheck) objHeader() bool {
	return s.win&pdfObj24 == pdfKwObj && pdfIsSpace(byte(s.win>>24)) && byte(s.win>>32)-'0' <= 9
}

// toTop leaves a stream's data.
func (s *pdfCheck) toTop() {
	s.mode = pdfTop
	s.names.reset()
	s.afterDict = false
	s.objStm, s.flate, s.filter = false, false, false
}

// readObjStm checks the object stream just read (its data, then
// endstream).
func (s *pdfCheck) readObjStm() error {
	data := trimPDFSpace(s.objstm[:len(s.objstm)-len("endstream")])
	defer func() {
		if cap(s.objstm) > 1<<20 {
			s.objstm = nil // a large one is not kept for the next
		}
	}()
	var names pdfNameScan
	switch {
	case s.filter:
		return errPDFUnchecked()
	case !s.flate:
		if err := names.scanNames(data); err != nil {
			return err
		}
		return names.endNames()
	}
	br := bytes.NewReader(data)
	zr, err := zlib.NewReader(br)
	if err != nil {
		return errPDFUnchecked()
	}
	defer zr.Close()
	var buf [8 << 10]byte
	total := 0
	for {
		n, err := zr.Read(buf[:])
		if total += n; total > pdfMaxInflated {
			return errPDFUnchecked()
		}
		if err := names.scanNames(buf[:n]); err != nil {
			return err
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return errPDFUnchecked()
		}
	}
	if err := names.endNames(); err != nil {
		return err
	}
	// What follows the compressed data should be an end of line; if a
	// crafted file put objects there, they are checked too.
	var rest pdfNameScan
	if err := rest.scanNames(data[len(data)-br.Len():]); err != nil {
		return err
	}
	return rest.endNames()
}

func trimPDFSpace(p []byte) []byte {
	for len(p) > 0 && pdfIsSpace(p[0]) {
		p = p[1:]
	}
	for len(p) > 0 && pdfIsSpace(p[len(p)-1]) {
		p = p[:len(p)-1]
	}
	return p
}

// keepTail keeps the last pdfTailBytes of the file.
func (s *pdfCheck) keepTail(p []byte) {
	if len(p) >= len(s.tail) {
		s.tailN = copy(s.tail[:], p[len(p)-len(s.tail):])
		return
	}
	keep := min(s.tailN, len(s.tail)-len(p))
	copy(s.tail[:], s.tail[s.tailN-keep:s.tailN])
	s.tailN = keep + copy(s.tail[keep:], p)
}

func (s *pdfCheck) end() error {
	switch {
	case s.seen < int64(len(magicPDF)):
		return errFileType()
	case s.mode == pdfObjStm:
		return errFileBroken()
	case !bytes.Contains(s.tail[:s.tailN], pdfTrailer):
		return errFileBroken()
	}
	return nil
}
