package identity

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/banhao/banhao/internal/apperr"
)

// IDNumber is a checked 18-character resident ID number (居民身份证号码,
// GB 11643-1999) and what it says about its holder. The same format serves
// the residence permits of Hong Kong, Macao and Taiwan residents (港澳台居民
// 居住证).
type IDNumber struct {
	// Number is the normalised number: 17 digits and a check digit or "X".
	Number string
	// Birth is the date of birth at UTC midnight.
	Birth time.Time
	// Female is true when the sequence digit (the 17th) is even.
	Female bool
	// Region is the six-digit administrative division code of first
	// registration; it may name a county that has since been merged away.
	Region string
}

// idWeights are the GB 11643-1999 weights 2^(17-i) mod 11 of the first 17
// digits; the weighted sum mod 11 indexes idCheckChars.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// idMinBirth is the earliest birth date accepted: older dates are typing
// errors, or the 1880 example of the standard itself.
var idMinBirth = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// idProvince reports whether the first two digits are a province-level code
// (GB/T 2260), including 71 Taiwan and 81–83 of the Hong Kong, Macao and
// Taiwan residence permits.
func idProvince(code string) bool {
	switch code {
	case "11", "12", "13", "14", "15",
		"21", "22", "23",
		"31", "32", "33", "34", "35", "36", "37",
		"41", "42", "43", "44", "45", "46",
		"50", "51", "52", "53", "54",
		"61", "62", "63", "64", "65",
		"71", "81", "82", "83":
		return true
	}
	return false
}

// idCheckChar returns the GB 11643-1999 check character of the first 17
// digits of body, or 0 if body does not start with 17 ASCII digits.
func idCheckChar(body string) byte {
	if len(body) < 17 {
		return 0
	}
	sum := 0
	for i := range 17 {
		c := body[i]
		if c < '0' || c > '9' {
			return 0
		}
		sum += int(c-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

func idFail(field, message string) error {
	return apperr.Fields(apperr.FieldError{Field: field, Message: message})
}

// isFullWidthAlnum reports full-width digits and letters (０-９, Ａ-Ｚ, ａ-ｚ),
// which Chinese input methods type by default.
func isFullWidthAlnum(r rune) bool {
	return r >= '０' && r <= '９' || r >= 'Ａ' && r <= 'Ｚ' || r >= 'ａ' && r <= 'ｚ'
}

// ParseIDNumber checks an 18-character resident ID number the way a
// window clerk would: surrounding spaces are trimmed and a lower-case x is
// read as X, but nothing else is repaired. today is the caller's current
// date (its calendar date in its own location): a birth date after it is
// refused. Errors are field errors on field, with a Chinese message that
// names the first problem found.
func ParseIDNumber(field, s string, today time.Time) (IDNumber, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return IDNumber{}, idFail(field, "请填写身份证号码")
	}
	if strings.IndexFunc(s, isFullWidthAlnum) >= 0 {
		return IDNumber{}, idFail(field, "请使用半角数字")
	}
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return IDNumber{}, idFail(field, "身份证号码中不能有空格")
	}
	if n := utf8.RuneCountInString(s); n != 18 {
		if n == 15 && isDigits(s) {
			return IDNumber{}, idFail(field, "身份证号码应为 18 位，15 位旧号码请换用新号码")
		}
		return IDNumber{}, idFail(field, "身份证号码应为 18 位")
	}
	// 18 runes in a string of 18 bytes: all ASCII from here on.
	if len(s) != 18 || !isDigits(s[:17]) || !(isDigits(s[17:]) || s[17] == 'X' || s[17] == 'x') {
		return IDNumber{}, idFail(field, "身份证号码只能由数字和末位 X 组成")
	}
	if s[17] == 'x' {
		s = s[:17] + "X"
	}
	if !idProvince(s[:2]) {
		return IDNumber{}, idFail(field, "身份证号码前两位不是有效的省级地区码")
	}
	y, m, d := atoi(s[6:10]), atoi(s[10:12]), atoi(s[12:14])
	birth := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if m < 1 || m > 12 || d < 1 || birth.Day() != d {
		return IDNumber{}, idFail(field, "出生日期不存在")
	}
	ty, tm, td := today.Date()
	if birth.After(time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC)) {
		return IDNumber{}, idFail(field, "出生日期不能晚于今天")
	}
	if birth.Before(idMinBirth) {
		return IDNumber{}, idFail(field, "出生日期不能早于 1900 年")
	}
	if idCheckChar(s) != s[17] {
		return IDNumber{}, idFail(field, "身份证号码校验位不正确")
	}
	return IDNumber{
		Number: s,
		Birth:  birth,
		Female: (s[16]-'0')%2 == 0,
		Region: s[:6],
	}, nil
}

// isDigits reports whether s is non-empty and all ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// atoi converts a short string already checked by isDigits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// MaskIDNumber hides an ID number for display, keeping the first four and
// last four characters around ten asterisks: 3716**********0012. A string
// of fewer than 16 characters, which those eight would half reveal, becomes
// all asterisks, one per character.
func MaskIDNumber(s string) string {
	r := []rune(s)
	if len(r) < 16 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:4]) + "**********" + string(r[len(r)-4:])
}

// ParseMobile checks a mainland mobile number (1[3-9] and nine more digits)
// and returns its 11 digits. A leading "+86" or "86", optionally followed
// by one space or hyphen, is dropped; surrounding spaces are trimmed.
// Errors are field errors on field, in Chinese.
func ParseMobile(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", idFail(field, "请填写手机号码")
	}
	if strings.IndexFunc(s, isFullWidthAlnum) >= 0 || strings.ContainsRune(s, '＋') {
		return "", idFail(field, "请使用半角数字")
	}
	if rest, ok := strings.CutPrefix(s, "+86"); ok {
		s = trimMobileSeparator(rest)
	} else if rest, ok := strings.CutPrefix(s, "86"); ok && len(rest) >= 11 {
		// "86" cannot start an 11-digit mobile number, so a longer string
		// starting with it carries the country code.
		s = trimMobileSeparator(rest)
	}
	if !isDigits(s) {
		return "", idFail(field, "手机号码只能包含数字")
	}
	if len(s) != 11 {
		return "", idFail(field, "手机号码应为 11 位")
	}
	if s[0] != '1' || s[1] < '3' {
		return "", idFail(field, "不是有效的手机号码")
	}
	return s, nil
}

// trimMobileSeparator drops one space or hyphen after a country code.
func trimMobileSeparator(s string) string {
	if s != "" && (s[0] == ' ' || s[0] == '-') {
		return s[1:]
	}
	return s
}

// MaskMobile hides the middle of a mobile number: 138****8000. A string of
// fewer than 11 characters becomes all asterisks, one per character.
func MaskMobile(s string) string {
	r := []rune(s)
	if len(r) < 11 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + "****" + string(r[len(r)-4:])
}

// MaskName hides all but the first character of a name, one asterisk per
// hidden character: 张三 → 张*, 欧阳娜娜 → 欧***. A one-character name becomes
// "*", so that it is not shown whole.
func MaskName(s string) string {
	n := utf8.RuneCountInString(s)
	if n <= 1 {
		return strings.Repeat("*", n)
	}
	_, size := utf8.DecodeRuneInString(s)
	return s[:size] + strings.Repeat("*", n-1)
}
