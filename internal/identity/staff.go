package identity

import (
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/banhao/banhao/internal/apperr"
)

// Role is what a staff member may do.
type Role string

// Staff roles.
const (
	RoleClerk      Role = "clerk"      // 综合受理窗口: calls tickets, accepts applications
	RoleApprover   Role = "approver"   // 后台审批: decides cases of their sectors
	RoleSupervisor Role = "supervisor" // 督办: watches deadlines and reviews
	RoleAdmin      Role = "admin"      // maintains the catalog, windows, kiosks, accounts
	// RoleCourier is a courier of a delivery company: it logs in only at
	// the courier entrance and sees only the parcels assigned to it.
	RoleCourier Role = "courier"
)

// Label returns the Chinese name of a role, or "" if unknown.
func (r Role) Label() string {
	switch r {
	case RoleClerk:
		return "窗口受理"
	case RoleApprover:
		return "后台审批"
	case RoleSupervisor:
		return "督办"
	case RoleAdmin:
		return "管理员"
	case RoleCourier:
		return "快递员"
	}
	return ""
}

// Staff is a staff account of one center.
type Staff struct {
	ID       string
	Center   string
	Username string
	// Name is the staff member's name as on their badge (亮牌办公).
	Name  string
	Roles []Role
	// Sectors limit where a clerk or approver acts; empty means every
	// sector of the center.
	Sectors []string
	// Company is a courier's delivery company; empty for staff.
	Company      string
	PasswordHash string
	Disabled     bool
	// FailedLogins counts failed logins since the last success; at the
	// limit the account is locked until LockedUntil.
	FailedLogins      int
	LockedUntil       time.Time
	PasswordChangedAt time.Time
	CreatedAt         time.Time
}

// HasRole reports whether the staff member has role r.
func (s *Staff) HasRole(r Role) bool { return slices.Contains(s.Roles, r) }

// InSector reports whether the staff member may act in sector.
func (s *Staff) InSector(sector string) bool {
	return len(s.Sectors) == 0 || slices.Contains(s.Sectors, sector)
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,31}$`)

// NormalizeUsername folds a login name to the form it is stored in.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// MinPasswordRunes is the shortest password accepted.
const MinPasswordRunes = 10

// CheckPassword refuses passwords too short, too long, or all one class.
func CheckPassword(field, pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordRunes:
		return apperr.Fields(apperr.FieldError{Field: field, Message: "密码至少 10 位"})
	case len(pw) > 128:
		return apperr.Fields(apperr.FieldError{Field: field, Message: "密码不能超过 128 个字节"})
	}
	var letters, digits bool
	for _, r := range pw {
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case r < utf8.RuneSelf && (r|0x20 >= 'a' && r|0x20 <= 'z'):
			letters = true
		}
	}
	if !letters || !digits {
		return apperr.Fields(apperr.FieldError{Field: field, Message: "密码须同时包含字母和数字"})
	}
	return nil
}

// validate checks a new account's own fields.
func (s *Staff) validate() error {
	var errs []apperr.FieldError
	add := func(f, m string) { errs = append(errs, apperr.FieldError{Field: f, Message: m}) }
	if !usernamePattern.MatchString(s.Username) {
		add("username", "用户名须为 3-32 位小写字母、数字、点、下划线或连字符")
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(s.Name)); n == 0 || n > 32 {
		add("name", "姓名须为 1-32 个字")
	}
	if len(s.Roles) == 0 {
		add("roles", "至少一个角色")
	}
	courier := s.HasRole(RoleCourier)
	if courier && len(s.Roles) > 1 {
		add("roles", "快递员账号不能兼任其他角色")
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(s.Company)); courier && (n == 0 || n > 32) {
		add("company", "请填写快递公司（1-32 个字）")
	} else if !courier && n > 0 {
		add("company", "只有快递员账号填写快递公司")
	}
	for _, r := range s.Roles {
		if r.Label() == "" {
			add("roles", "角色须为 clerk、approver、supervisor、admin 或 courier")
			break
		}
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	return nil
}
