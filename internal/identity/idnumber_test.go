package identity

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
)

// withCheck completes a 17-digit body with its check character, computed
// here from the standard's definition (weights 2^(17-i) mod 11, check value
// (12 - sum mod 11) mod 11, 10 written X) rather than from the tables in
// idnumber.go, so that the two implementations check each other.
func withCheck(body string) string {
	if len(body) != 17 {
		panic("withCheck: body must be 17 digits: " + body)
	}
	sum := 0
	for i := range 17 {
		sum += int(body[i]-'0') * ((1 << (17 - i)) % 11)
	}
	v := (12 - sum%11) % 11
	if v == 10 {
		return body + "X"
	}
	return body + string(rune('0'+v))
}

// wrongCheck completes body with a check character that is not its own.
func wrongCheck(body string) string {
	good := withCheck(body)
	if good[17] == '0' {
		return body + "1"
	}
	return body + "0"
}

var idToday = time.Date(2026, 11, 25, 15, 30, 0, 0, time.FixedZone("CST", 8*3600))

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestWithCheckKnownNumbers(t *testing.T) {
	// Checked by hand: 11010519491231002X is the example of GB 11643-1999
	// itself (weighted sum 167, 167 mod 11 = 2 → X); 440524188001010014 is
	// its other example.
	for _, n := range []string{"11010519491231002X", "440524188001010014", "371625199001010012"} {
		if got := withCheck(n[:17]); got != n {
			t.Errorf("withCheck(%s) = %s, want %s", n[:17], got, n)
		}
		if got := idCheckChar(n); got != n[17] {
			t.Errorf("idCheckChar(%s) = %c, want %c", n, got, n[17])
		}
	}
}

func TestParseIDNumberValid(t *testing.T) {
	tests := []struct {
		name, in string
		want     IDNumber
	}{
		{"standard example, X", "11010519491231002X",
			IDNumber{Number: "11010519491231002X", Birth: date(1949, 12, 31), Female: true, Region: "110105"}},
		{"lower-case x", "11010519491231002x",
			IDNumber{Number: "11010519491231002X", Birth: date(1949, 12, 31), Female: true, Region: "110105"}},
		{"Huimin male", "371625199001010012",
			IDNumber{Number: "371625199001010012", Birth: date(1990, 1, 1), Female: false, Region: "371625"}},
		{"surrounding spaces", "  371625199001010012\t\n",
			IDNumber{Number: "371625199001010012", Birth: date(1990, 1, 1), Region: "371625"}},
		{"ideographic space", "\u3000371625199001010012\u3000",
			IDNumber{Number: "371625199001010012", Birth: date(1990, 1, 1), Region: "371625"}},
		{"29 Feb 2000", withCheck("37162520000229002"),
			IDNumber{Number: withCheck("37162520000229002"), Birth: date(2000, 2, 29), Female: true, Region: "371625"}},
		{"29 Feb 2024", withCheck("65010120240229004"),
			IDNumber{Number: withCheck("65010120240229004"), Birth: date(2024, 2, 29), Female: true, Region: "650101"}},
		{"born 1900-01-01", withCheck("37162519000101003"),
			IDNumber{Number: withCheck("37162519000101003"), Birth: date(1900, 1, 1), Region: "371625"}},
		{"born today", withCheck("37162520261125001"),
			IDNumber{Number: withCheck("37162520261125001"), Birth: date(2026, 11, 25), Region: "371625"}},
		{"Hong Kong permit", withCheck("81000019800101001"),
			IDNumber{Number: withCheck("81000019800101001"), Birth: date(1980, 1, 1), Region: "810000"}},
		{"Macao permit", withCheck("82000019800101002"),
			IDNumber{Number: withCheck("82000019800101002"), Birth: date(1980, 1, 1), Female: true, Region: "820000"}},
		{"Taiwan permit", withCheck("83000019900101002"),
			IDNumber{Number: withCheck("83000019900101002"), Birth: date(1990, 1, 1), Female: true, Region: "830000"}},
		{"Taiwan 71", withCheck("71000019900101001"),
			IDNumber{Number: withCheck("71000019900101001"), Birth: date(1990, 1, 1), Region: "710000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIDNumber("id_number", tt.in, idToday)
			if err != nil {
				t.Fatalf("ParseIDNumber(%q): %v", tt.in, err)
			}
			if got.Number != tt.want.Number || !got.Birth.Equal(tt.want.Birth) || got.Birth.Location() != time.UTC ||
				got.Female != tt.want.Female || got.Region != tt.want.Region {
				t.Errorf("ParseIDNumber(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

// TestParseIDNumberEveryProvince accepts every province-level code and
// refuses its neighbours.
func TestParseIDNumberEveryProvince(t *testing.T) {
	valid := map[int]bool{71: true, 81: true, 82: true, 83: true}
	for _, r := range [][2]int{{11, 15}, {21, 23}, {31, 37}, {41, 46}, {50, 54}, {61, 65}} {
		for c := r[0]; c <= r[1]; c++ {
			valid[c] = true
		}
	}
	for c := 0; c <= 99; c++ {
		n := withCheck(fmt.Sprintf("%02d0000199001010011", c)[:17])
		_, err := ParseIDNumber("id", n, idToday)
		if valid[c] != (err == nil) {
			t.Errorf("province %02d: err = %v, want accepted = %v", c, err, valid[c])
		}
	}
}

func TestParseIDNumberRefused(t *testing.T) {
	const (
		msgLength   = "身份证号码应为 18 位"
		msgChars    = "身份证号码只能由数字和末位 X 组成"
		msgNoDate   = "出生日期不存在"
		msgCheck    = "身份证号码校验位不正确"
		msgFullW    = "请使用半角数字"
		msgSpace    = "身份证号码中不能有空格"
		msgFuture   = "出生日期不能晚于今天"
		msgTooOld   = "出生日期不能早于 1900 年"
		msgProvince = "身份证号码前两位不是有效的省级地区码"
	)
	tests := []struct{ name, in, want string }{
		{"empty", "", "请填写身份证号码"},
		{"blank", "   ", "请填写身份证号码"},
		{"full-width digits", "３７１６２５１９９００１０１００１２", msgFullW},
		{"one full-width digit", "37162519900101001２", msgFullW},
		{"full-width X", "11010519491231002Ｘ", msgFullW},
		{"inner space", "371625 199001010012", msgSpace},
		{"inner ideographic space", "371625\u3000199001010012", msgSpace},
		{"15-digit old number", "371625900101001", "身份证号码应为 18 位，15 位旧号码请换用新号码"},
		{"17 digits", "37162519900101001", msgLength},
		{"19 digits", "3716251990010100120", msgLength},
		{"letter inside", "3716251990O1010012", msgChars},
		{"letter at the end", "37162519900101001A", msgChars},
		{"X not at the end", "3716251990010100X2", msgChars},
		{"hyphen", "371625-19900101001", msgChars},
		{"18 runes, not 18 bytes", "37162519900101001中", msgChars},
		{"nul byte", "37162519900101001\x00", msgChars},
		{"wrong check digit", wrongCheck("37162519900101001"), msgCheck},
		{"wrong check X", "37162519900101001X", msgCheck},
		{"check X expected digit", "11010519491231002" + "0", msgCheck},
		{"transposed digits", "371625199001010102", msgCheck},
		{"province 00", withCheck("00162519900101001"), msgProvince},
		{"province 16", withCheck("16162519900101001"), msgProvince},
		{"province 84", withCheck("84000019900101001"), msgProvince},
		{"province 99", withCheck("99000019900101001"), msgProvince},
		{"month 00", withCheck("37162519900001001"), msgNoDate},
		{"month 13", withCheck("37162519901301001"), msgNoDate},
		{"day 00", withCheck("37162519900100001"), msgNoDate},
		{"day 32", withCheck("37162519900132001"), msgNoDate},
		{"31 April", withCheck("37162519900431001"), msgNoDate},
		{"29 Feb 2023", withCheck("37162520230229001"), msgNoDate},
		{"29 Feb 1900", withCheck("37162519000229001"), msgNoDate},
		{"30 Feb 2024", withCheck("37162520240230001"), msgNoDate},
		{"tomorrow", withCheck("37162520261126001"), msgFuture},
		{"next year", withCheck("37162520270101001"), msgFuture},
		{"year 9999", withCheck("37162599991231001"), msgFuture},
		{"1899-12-31", withCheck("37162518991231001"), msgTooOld},
		{"standard's 1880 example", "440524188001010014", msgTooOld},
		{"year 0000", withCheck("37162500000101001"), msgTooOld},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIDNumber("applicant.id_number", tt.in, idToday)
			if err == nil {
				t.Fatalf("ParseIDNumber(%q) = %+v, want refusal", tt.in, got)
			}
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.Invalid || len(e.Fields) != 1 {
				t.Fatalf("error %v is not one field error", err)
			}
			if f := e.Fields[0]; f.Field != "applicant.id_number" || f.Message != tt.want {
				t.Errorf("field error = %s: %s, want applicant.id_number: %s", f.Field, f.Message, tt.want)
			}
			if got != (IDNumber{}) {
				t.Errorf("refused number returned %+v", got)
			}
		})
	}
}

// TestParseIDNumberToday checks the today boundary in the caller's zone:
// late on 25 November in Beijing is still 25 November, although it is
// already the 26th in UTC... and early on the 26th in Beijing it is the 25th
// in UTC.
func TestParseIDNumberToday(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	born26 := withCheck("37162520261126001")
	tests := []struct {
		name  string
		today time.Time
		ok    bool
	}{
		{"25th late in Beijing", time.Date(2026, 11, 25, 23, 59, 59, 0, cst), false},
		{"26th just after midnight in Beijing", time.Date(2026, 11, 26, 0, 0, 1, 0, cst), true},
		{"26th UTC", time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), true},
		{"25th UTC, last nanosecond", time.Date(2026, 11, 25, 23, 59, 59, 999999999, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseIDNumber("id", born26, tt.today)
			if (err == nil) != tt.ok {
				t.Errorf("born 2026-11-26, today %v: err = %v, want ok = %v", tt.today, err, tt.ok)
			}
		})
	}
}

// TestParseIDNumberBodies builds numbers from many bodies and checks that
// the right check character is the only one accepted.
func TestParseIDNumberBodies(t *testing.T) {
	for i := range 200 {
		body := fmt.Sprintf("3716%02d%04d%02d%02d%03d", i%100, 1950+i%70, 1+i%12, 1+i%28, i)
		good := withCheck(body)
		id, err := ParseIDNumber("id", good, idToday)
		if err != nil {
			t.Fatalf("%s: %v", good, err)
		}
		if id.Female != (i%2 == 0) {
			t.Errorf("%s: Female = %v", good, id.Female)
		}
		for _, c := range "0123456789X" {
			if string(c) == good[17:] {
				continue
			}
			if _, err := ParseIDNumber("id", body+string(c), idToday); err == nil {
				t.Fatalf("%s%c accepted; only %s is valid", body, c, good)
			}
		}
	}
}

func TestMaskIDNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"371625199001010012", "3716**********0012"},
		{"11010519491231002X", "1101**********002X"},
		{"", ""},
		{"1234567", "*******"},
		{"12345678", "********"},
		{"371625900101001", "***************"},
		{"3716251990010100", "3716**********0100"},
		{"37162519900101001234", "3716**********1234"},
		{"身份证号码一二三四五六七八九十甲乙", "身份证号**********九十甲乙"}, // whole runes
	}
	for _, tt := range tests {
		if got := MaskIDNumber(tt.in); got != tt.want {
			t.Errorf("MaskIDNumber(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseMobile(t *testing.T) {
	valid := []struct{ in, want string }{
		{"13800138000", "13800138000"},
		{"19912345678", "19912345678"},
		{" 13800138000 ", "13800138000"},
		{"+8613800138000", "13800138000"},
		{"+86 13800138000", "13800138000"},
		{"+86-13800138000", "13800138000"},
		{"8613800138000", "13800138000"},
		{"86 13800138000", "13800138000"},
	}
	for _, tt := range valid {
		got, err := ParseMobile("mobile", tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseMobile(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}

	refused := []struct{ name, in, want string }{
		{"empty", "", "请填写手机号码"},
		{"full-width", "１３８００１３８０００", "请使用半角数字"},
		{"full-width plus", "＋8613800138000", "请使用半角数字"},
		{"10 digits", "1380013800", "手机号码应为 11 位"},
		{"12 digits", "138001380001", "手机号码应为 11 位"},
		{"+86 and 10 digits", "+861380013800", "手机号码应为 11 位"},
		{"inner space", "138 0013 8000", "手机号码只能包含数字"},
		{"hyphens", "138-0013-8000", "手机号码只能包含数字"},
		{"letters", "1380013800O", "手机号码只能包含数字"},
		{"two separators", "+86  13800138000", "手机号码只能包含数字"},
		{"separator without code", "-13800138000", "手机号码只能包含数字"},
		{"+85", "+85213800138000", "手机号码只能包含数字"},
		{"landline", "05434123456", "不是有效的手机号码"},
		{"12x prefix", "12345678901", "不是有效的手机号码"},
		{"10x prefix", "10086100861", "不是有效的手机号码"},
		{"86 prefix alone", "86138001380", "不是有效的手机号码"},
		{"+86 only", "+86", "手机号码只能包含数字"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMobile("contact.mobile", tt.in)
			e, ok := apperr.As(err)
			if !ok || got != "" || len(e.Fields) != 1 {
				t.Fatalf("ParseMobile(%q) = %q, %v; want one field error", tt.in, got, err)
			}
			if f := e.Fields[0]; f.Field != "contact.mobile" || f.Message != tt.want {
				t.Errorf("field error = %s: %s, want contact.mobile: %s", f.Field, f.Message, tt.want)
			}
		})
	}
}

func TestMaskMobile(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"13800138000", "138****8000"},
		{"", ""},
		{"1380013", "*******"},
		{"1380013800", "**********"},
	} {
		if got := MaskMobile(tt.in); got != tt.want {
			t.Errorf("MaskMobile(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"张三", "张*"},
		{"欧阳娜娜", "欧***"},
		{"李", "*"},
		{"", ""},
		{"买买提·艾力", "买*****"},
		{"Li Lei", "L*****"},
	} {
		if got := MaskName(tt.in); got != tt.want {
			t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzParseIDNumber checks that the parser never panics and that whatever
// it accepts is a normalised, self-consistent number.
func FuzzParseIDNumber(f *testing.F) {
	for _, s := range []string{
		"11010519491231002X",
		"11010519491231002x",
		" 371625199001010012 ",
		withCheck("37162520000229002"),
		"440524188001010014",
		"３７１６２５１９９００１０１００１２",
		"371625900101001",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseIDNumber("id", s, idToday)
		if err != nil {
			if _, ok := apperr.As(err); !ok {
				t.Fatalf("error is not an apperr: %v", err)
			}
			return
		}
		n := id.Number
		if len(n) != 18 || !isDigits(n[:17]) || !(isDigits(n[17:]) || n[17] == 'X') {
			t.Fatalf("accepted %q as %q", s, n)
		}
		if strings.ToUpper(strings.TrimSpace(s)) != n {
			t.Fatalf("accepted %q as %q: more than trimming and x→X", s, n)
		}
		if withCheck(n[:17]) != n {
			t.Fatalf("accepted %q with a wrong check character", n)
		}
		if id.Birth.Before(idMinBirth) || id.Birth.After(date(2026, 11, 25)) {
			t.Fatalf("accepted %q born %v", n, id.Birth)
		}
		if got := id.Birth.Format("20060102"); got != n[6:14] {
			t.Fatalf("birth %s does not match digits %s", got, n[6:14])
		}
		if id.Region != n[:6] || id.Female != ((n[16]-'0')%2 == 0) {
			t.Fatalf("region/sex do not match %q: %+v", n, id)
		}
		again, err := ParseIDNumber("id", n, idToday)
		if err != nil || again != id {
			t.Fatalf("accepted number does not re-validate: %+v, %v", again, err)
		}
	})
}
