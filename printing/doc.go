// Package printing turns issued e-certificates (电子证照) and parcels into
// paper: one A4 PDF page per certificate, a 100×150 mm shipping label per
// parcel, and the signed payload that the certificate's QR code carries so
// that anyone can check a printed certificate, even offline.
//
// # Signed payloads
//
// Keys holds Ed25519 signing keys from configuration; the first key signs
// and every key still verifies, so a key is rotated by putting a new one in
// front and dropping the old one only when no certificate signed with it
// matters any more. PublicKeys is what the server publishes at
// /.well-known/banhao-keys.json; Verify needs nothing else.
//
// The compact form is base64url without padding (URL-safe, and short
// enough for a QR code at print size) of
//
//	0x01                    format version
//	len(kid) kid            key id, 1 to 16 bytes
//	uvarint(len(body)) body the fields, see below
//	signature               64 bytes, Ed25519
//
// where body is CertID, Type, Number, Holder and Issuer, each as
// uvarint(length) and UTF-8 bytes, then Issued as a zigzag varint of days
// since 1970-01-01 and ValidUntil as a uvarint: 0 for no expiry, otherwise
// 1 + days after Issued. The signature covers the domain string
// "banhao/ecert/v1" and a zero byte followed by every byte before the
// signature, so the key id and the version are signed too. Because the
// body length is stated, a truncated text is malformed rather than forged.
// A typical certificate (an "ec" id, a type, a masked number and name, an
// issuer) comes to 175 to 210 bytes, 235 to 280 characters; behind a
// verify URL that is a version 12 or 13 QR code (65 or 69 modules) at
// error correction level M, about 0.6 mm a module at the printed 40 mm.
//
// Dates are calendar dates: Sign keeps the year, month and day of each time
// in its own location; Verify returns them as midnight UTC of that date.
//
// # Rendering
//
// Renderer parses the vendored fonts (assets/fonts, Noto Serif SC Regular
// and Bold, OFL) once, into gopdf's FontContainer; each document takes a
// shallow copy of a parsed font on first use and embeds only the glyphs it
// draws. A character that the fonts lack makes rendering fail with
// CodeGlyphMissing naming the character and the field: the PDF library
// would otherwise print a blank, and a blank in a legal document is never
// acceptable. The fonts have all of the URO (U+4E00–9FFF) and Extension A,
// and of the supplementary planes only the 200 or so characters of the
// 通用规范汉字表 (such as 𬌗); most of Extension B fails.
//
// Two gopdf v0.33.0 limits shape the figures: it compresses each embedded
// font subset at zlib's default level whatever SetCompressLevel says, and
// the subset keeps the font's full loca table (65,536 entries), so each
// font costs about 13 ms and 40 to 50 KB per page, which is most of a
// certificate's 40 ms and 110 KB. And it writes ToUnicode entries for
// characters beyond the BMP as five hex digits rather than a surrogate
// pair: such a character prints right but copies out of the PDF wrong.
package printing
