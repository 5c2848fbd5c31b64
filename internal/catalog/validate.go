package catalog

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/banhao/banhao/internal/apperr"
)

// Limits on guide fields, so a guide fits a kiosk screen and a store record.
const (
	maxNameRunes     = 64
	maxTextRunes     = 2000
	maxListItems     = 50
	maxKeywordRunes  = 20
	maxKeywords      = 20
	maxWorkingDays   = 365
	maxFeeFen        = 100_000_000_00 // one hundred million yuan
	maxMaterialCount = 99
)

var (
	codePattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,63}$`)
	phonePattern = regexp.MustCompile(`^[0-9][0-9-]{2,19}$`)
)

// ValidCode reports whether s has the shape of a center, sector or matter code.
func ValidCode(s string) bool { return codePattern.MatchString(s) }

type checker struct{ errs []apperr.FieldError }

func (c *checker) add(field, format string, args ...any) {
	c.errs = append(c.errs, apperr.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) text(field, v string, required bool, max int) {
	switch {
	case required && strings.TrimSpace(v) == "":
		c.add(field, "不能为空")
	case !utf8.ValidString(v):
		c.add(field, "不是有效的 UTF-8 文本")
	case utf8.RuneCountInString(v) > max:
		c.add(field, "不能超过 %d 个字", max)
	case hasControl(v):
		c.add(field, "含有控制字符")
	}
}

func (c *checker) code(field, v string) {
	if !ValidCode(v) {
		c.add(field, "编码须为 2-64 位小写字母、数字或连字符")
	}
}

func (c *checker) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return apperr.Fields(c.errs...)
}

// hasControl reports control characters other than newline and tab, which
// guides may use for layout.
func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return true
		}
	}
	return false
}

// Validate checks a center's own fields.
func (ce *Center) Validate() error {
	var c checker
	c.code("code", ce.Code)
	c.text("name", ce.Name, true, maxNameRunes)
	switch ce.Kind {
	case CenterCounty:
		if ce.Parent != "" {
			c.add("parent", "县级中心不能有上级中心")
		}
	case CenterTownship:
		c.code("parent", ce.Parent)
	default:
		c.add("kind", "须为 county 或 township")
	}
	c.text("address", ce.Address, true, 200)
	if !phonePattern.MatchString(ce.Phone) {
		c.add("phone", "电话号码格式不正确")
	}
	c.text("hours", ce.Hours, true, 200)
	if ce.TimeZone == "" {
		c.add("time_zone", "不能为空")
	}
	return c.err()
}

// Validate checks a sector's own fields.
func (s *Sector) Validate() error {
	var c checker
	c.code("center", s.Center)
	c.code("code", s.Code)
	c.text("name", s.Name, true, maxNameRunes)
	c.text("description", s.Description, false, maxTextRunes)
	if s.Order < 0 || s.Order > 999 {
		c.add("order", "须在 0 到 999 之间")
	}
	return c.err()
}

// Validate checks a matter's guide for completeness and consistency. It does
// not check that the center and sector exist; the Service does.
func (m *Matter) Validate() error {
	var c checker
	c.code("code", m.Code)
	c.code("center", m.Center)
	c.code("sector", m.Sector)
	c.text("name", m.Name, true, maxNameRunes)
	if m.Kind.Label() == "" {
		c.add("kind", "事项类型无效")
	}
	c.text("authority", m.Authority, true, maxNameRunes)
	c.text("result", m.Result, false, maxNameRunes)
	c.text("certificate", m.Certificate, false, maxNameRunes)
	if len(m.Keywords) > maxKeywords {
		c.add("keywords", "关键词不能超过 %d 个", maxKeywords)
	}
	for i, k := range m.Keywords {
		c.text(fmt.Sprintf("keywords[%d]", i), k, true, maxKeywordRunes)
	}
	if len(m.LegalBasis) == 0 {
		c.add("legal_basis", "至少填写一项设定依据")
	}
	if len(m.LegalBasis) > maxListItems {
		c.add("legal_basis", "不能超过 %d 项", maxListItems)
	}
	for i, b := range m.LegalBasis {
		c.text(fmt.Sprintf("legal_basis[%d]", i), b, true, maxTextRunes)
	}
	c.text("conditions", m.Conditions, false, maxTextRunes)
	if len(m.Materials) > maxMaterialCount {
		c.add("materials", "不能超过 %d 项", maxMaterialCount)
	}
	seen := make(map[string]bool, len(m.Materials))
	for i, mat := range m.Materials {
		f := fmt.Sprintf("materials[%d]", i)
		c.text(f+".name", mat.Name, true, maxNameRunes*2)
		if seen[mat.Name] {
			c.add(f+".name", "材料名称重复")
		}
		seen[mat.Name] = true
		if mat.Originals < 0 || mat.Copies < 0 || mat.Originals > 99 || mat.Copies > 99 {
			c.add(f, "原件和复印件份数须在 0 到 99 之间")
		} else if mat.Originals+mat.Copies == 0 && mat.ECertType == "" {
			c.add(f, "原件或复印件至少一份，或可用电子证照代替")
		}
		if mat.Pendable && !mat.Required {
			c.add(f+".pendable", "只有必需材料才能容缺")
		}
		c.text(f+".ecert_type", mat.ECertType, false, maxNameRunes)
		c.text(f+".note", mat.Note, false, maxTextRunes)
	}
	if len(m.Steps) == 0 {
		c.add("steps", "至少填写一个办理环节")
	}
	if len(m.Steps) > maxListItems {
		c.add("steps", "不能超过 %d 个环节", maxListItems)
	}
	for i, s := range m.Steps {
		c.text(fmt.Sprintf("steps[%d].name", i), s.Name, true, maxNameRunes)
		c.text(fmt.Sprintf("steps[%d].description", i), s.Description, false, maxTextRunes)
	}
	if m.StatutoryDays < 0 || m.StatutoryDays > maxWorkingDays {
		c.add("statutory_days", "法定时限须在 0 到 %d 个工作日之间", maxWorkingDays)
	}
	if m.PromisedDays < 0 || m.PromisedDays > maxWorkingDays {
		c.add("promised_days", "承诺时限须在 0 到 %d 个工作日之间", maxWorkingDays)
	} else if m.StatutoryDays > 0 && m.PromisedDays > m.StatutoryDays {
		c.add("promised_days", "承诺时限不能长于法定时限")
	}
	if m.GreenDays < 0 || m.GreenDays > maxWorkingDays {
		c.add("green_days", "绿色通道时限须在 0 到 %d 个工作日之间", maxWorkingDays)
	} else if m.GreenDays > 0 && (!m.GreenChannel || m.GreenDays > m.PromisedDays) {
		c.add("green_days", "绿色通道时限只用于绿色通道事项，且不能长于承诺时限")
	}
	if m.FeeFen < 0 || m.FeeFen > maxFeeFen {
		c.add("fee_fen", "收费金额无效")
	}
	c.text("fee_standard", m.FeeStandard, true, maxTextRunes)
	c.text("fee_basis", m.FeeBasis, m.FeeFen > 0, maxTextRunes)
	if !phonePattern.MatchString(m.ConsultPhone) {
		c.add("consult_phone", "电话号码格式不正确")
	}
	if !phonePattern.MatchString(m.ComplaintPhone) {
		c.add("complaint_phone", "电话号码格式不正确")
	}
	if m.Visits != 0 && m.Visits != 1 {
		c.add("visits", "跑动次数只能是 0 或 1")
	}
	if len(m.Channels) == 0 {
		c.add("channels", "至少一个办理渠道")
	}
	for i, ch := range m.Channels {
		switch ch {
		case ChannelOnline, ChannelKiosk, ChannelWindow:
		default:
			c.add(fmt.Sprintf("channels[%d]", i), "办理渠道须为 online、kiosk 或 window")
		}
	}
	if m.Visits == 0 && len(m.Channels) > 0 && !m.HasChannel(ChannelOnline) && !m.HasChannel(ChannelKiosk) {
		c.add("visits", "零跑动事项须能网上或自助终端办理")
	}
	if len(m.Delivery) == 0 {
		c.add("delivery", "至少一种出件方式")
	}
	for i, d := range m.Delivery {
		switch d {
		case DeliveryWindow, DeliveryKioskPrint, DeliveryExpress:
		default:
			c.add(fmt.Sprintf("delivery[%d]", i), "出件方式须为 window、kiosk_print 或 express")
		}
	}
	switch m.Status {
	case StatusActive, StatusRetired:
	default:
		c.add("status", "状态须为 active 或 retired")
	}
	return c.err()
}
