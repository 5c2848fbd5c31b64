package mobileapi

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/web"
)

const (
	localsCitizen = "mobileapi.citizen"
	localsSession = "mobileapi.session"
)

func origin(c *fiber.Ctx) identity.Origin { return identity.Origin{IP: c.IP()} }

// requireCitizen admits requests bearing a mini-program session token.
func requireCitizen(cs *identity.Citizens) fiber.Handler {
	return func(c *fiber.Ctx) error {
		token, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		if !ok {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="banhao"`)
			return apperr.New(apperr.Unauthorized, "请先登录")
		}
		sess, ct, err := cs.Authenticate(c.UserContext(), strings.TrimSpace(token))
		if err != nil {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="banhao"`)
			return err
		}
		c.Locals(localsCitizen, ct)
		c.Locals(localsSession, sess)
		c.Locals(web.LocalsActor, "citizen:"+ct.ID)
		return c.Next()
	}
}

func citizenOf(c *fiber.Ctx) identity.Citizen {
	ct, _ := c.Locals(localsCitizen).(identity.Citizen)
	return ct
}

// citizenView is the citizen as the mini-program shows them: personal
// data masked, since the screens that show it need no more.
type citizenView struct {
	ID             string     `json:"id"`
	Bound          bool       `json:"bound"`
	NameMasked     string     `json:"name_masked,omitempty"`
	IDNumberMasked string     `json:"id_number_masked,omitempty"`
	PhoneMasked    string     `json:"phone_masked,omitempty"`
	BoundAt        *time.Time `json:"bound_at,omitempty"`
}

func viewCitizen(cs *identity.Citizens, ct identity.Citizen) (citizenView, error) {
	p, err := cs.Profile(ct)
	if err != nil {
		return citizenView{}, err
	}
	v := citizenView{ID: p.ID, Bound: p.Bound}
	if p.Name != "" {
		v.NameMasked = identity.MaskName(p.Name)
	}
	if p.IDNumber != "" {
		v.IDNumberMasked = identity.MaskIDNumber(p.IDNumber)
	}
	if p.Phone != "" {
		v.PhoneMasked = identity.MaskMobile(p.Phone)
	}
	if p.Bound {
		t := inChina(p.BoundAt)
		v.BoundAt = &t
	}
	return v, nil
}

type mpLoginRequest struct {
	Code string `json:"code"`
}

type mpLoginResponse struct {
	Token     string      `json:"token"`
	ExpiresAt time.Time   `json:"expires_at"`
	Citizen   citizenView `json:"citizen"`
}

// handleMPLogin exchanges a wx.login code for a banhao session token.
func handleMPLogin(cs *identity.Citizens) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req mpLoginRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		l, err := cs.Login(c.UserContext(), req.Code, origin(c))
		if err != nil {
			return err
		}
		v, err := viewCitizen(cs, l.Citizen)
		if err != nil {
			return err
		}
		return c.JSON(mpLoginResponse{Token: l.Token, ExpiresAt: inChina(l.Session.ExpiresAt), Citizen: v})
	}
}

func handleMPLogout(cs *identity.Citizens) fiber.Handler {
	return func(c *fiber.Ctx) error {
		sess, _ := c.Locals(localsSession).(identity.Session)
		if err := cs.Logout(c.UserContext(), sess); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

func handleMe(cs *identity.Citizens) fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := viewCitizen(cs, citizenOf(c))
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

type realNameRequest struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
}

// handleRealName binds the caller's real name and resident ID number.
func handleRealName(cs *identity.Citizens) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req realNameRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		ct, err := cs.BindRealName(c.UserContext(), citizenOf(c), req.Name, req.IDNumber, origin(c))
		if err != nil {
			return err
		}
		v, err := viewCitizen(cs, ct)
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

type dataUseView struct {
	At        time.Time `json:"at"`
	Role      string    `json:"role"`
	RoleLabel string    `json:"role_label"`
	Center    string    `json:"center,omitempty"`
	Action    string    `json:"action"`
	Purpose   string    `json:"purpose,omitempty"`
}

// handleDataUse lists who used the caller's personal data and why.
func handleDataUse(cs *identity.Citizens) fiber.Handler {
	return func(c *fiber.Ctx) error {
		limit, err := web.QueryInt(c, "limit")
		if err != nil {
			return err
		}
		if limit == 0 || limit > 100 {
			limit = 20
		}
		uses, next, err := cs.DataUseLog(c.UserContext(), citizenOf(c), c.Query("cursor"), limit)
		if err != nil {
			return err
		}
		items := make([]dataUseView, len(uses))
		for i, u := range uses {
			label := "本人"
			if u.Role != "citizen" {
				label = roleLabels(u.Role)
			}
			items[i] = dataUseView{At: inChina(u.At), Role: u.Role, RoleLabel: label, Center: u.Center, Action: u.Action, Purpose: u.Purpose}
		}
		return c.JSON(listResponse[dataUseView]{Items: items, Next: next})
	}
}

// roleLabels turns "clerk,admin" into "窗口受理、管理员".
func roleLabels(roles string) string {
	var out []string
	for _, r := range strings.Split(roles, ",") {
		if l := identity.Role(r).Label(); l != "" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return "系统"
	}
	return strings.Join(out, "、")
}

type phoneRequest struct {
	Code string `json:"code"`
}

// handlePhone binds the phone number WeChat confirms for a getPhoneNumber code.
func handlePhone(cs *identity.Citizens) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req phoneRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		ct, err := cs.BindPhone(c.UserContext(), citizenOf(c), req.Code, origin(c))
		if err != nil {
			return err
		}
		v, err := viewCitizen(cs, ct)
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}
