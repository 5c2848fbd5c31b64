package console

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/web"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// staffView is a staff account as shown in the console.
type staffView struct {
	ID         string          `json:"id"`
	Center     string          `json:"center"`
	Username   string          `json:"username"`
	Name       string          `json:"name"`
	Roles      []identity.Role `json:"roles"`
	RoleLabels []string        `json:"role_labels"`
	Sectors    []string        `json:"sectors"`
	Company    string          `json:"company,omitempty"`
	Disabled   bool            `json:"disabled"`
}

func viewStaff(st identity.Staff) staffView {
	v := staffView{ID: st.ID, Center: st.Center, Username: st.Username, Name: st.Name,
		Roles: st.Roles, Sectors: st.Sectors, Company: st.Company, Disabled: st.Disabled, RoleLabels: []string{}}
	if v.Sectors == nil {
		v.Sectors = []string{}
	}
	for _, r := range st.Roles {
		v.RoleLabels = append(v.RoleLabels, r.Label())
	}
	return v
}

type loginResponse struct {
	Token     string    `json:"token"`
	CSRFToken string    `json:"csrf_token"`
	ExpiresAt time.Time `json:"expires_at"`
	Staff     staffView `json:"staff"`
}

// handleLogin checks a username and password, sets the console cookies and
// also returns the token for API clients.
func handleLogin(ids *identity.Service, secureCookies bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req loginRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		var errs []apperr.FieldError
		if req.Username == "" || len(req.Username) > 64 {
			errs = append(errs, apperr.FieldError{Field: "username", Message: "请输入用户名"})
		}
		if req.Password == "" || len(req.Password) > 128 {
			errs = append(errs, apperr.FieldError{Field: "password", Message: "请输入密码"})
		}
		if len(errs) > 0 {
			return apperr.Fields(errs...)
		}
		l, err := ids.LoginStaff(c.UserContext(), req.Username, req.Password, origin(c))
		if err != nil {
			return err
		}
		// A lifetime rather than an expiry time: a browser whose clock
		// differs from the server's must not drop the cookie on arrival.
		// The session itself expires on the server, which is what counts.
		const cookieAge = 12 * 3600
		c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: l.Token, Path: "/", HTTPOnly: true,
			Secure: secureCookies, SameSite: fiber.CookieSameSiteStrictMode, MaxAge: cookieAge})
		c.Cookie(&fiber.Cookie{Name: csrfCookie, Value: l.Session.CSRF, Path: "/",
			Secure: secureCookies, SameSite: fiber.CookieSameSiteStrictMode, MaxAge: cookieAge})
		return c.JSON(loginResponse{Token: l.Token, CSRFToken: l.Session.CSRF, ExpiresAt: l.Session.ExpiresAt, Staff: viewStaff(l.Staff)})
	}
}

func handleLogout(ids *identity.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := ids.Logout(c.UserContext(), sessionOf(c)); err != nil {
			return err
		}
		c.ClearCookie(sessionCookie, csrfCookie)
		return c.SendStatus(fiber.StatusNoContent)
	}
}

func handleMe() fiber.Handler {
	return func(c *fiber.Ctx) error {
		return c.JSON(viewStaff(staffOf(c)))
	}
}

type passwordRequest struct {
	OldPassword string `json:"old_password"`
	NewPassword string `json:"new_password"`
}

// handlePassword changes the caller's password and ends all their sessions.
func handlePassword(ids *identity.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req passwordRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		if err := ids.ChangePassword(c.UserContext(), sessionOf(c), staffOf(c), req.OldPassword, req.NewPassword, origin(c)); err != nil {
			return err
		}
		c.ClearCookie(sessionCookie, csrfCookie)
		return c.SendStatus(fiber.StatusNoContent)
	}
}

type createStaffRequest struct {
	Username string          `json:"username"`
	Name     string          `json:"name"`
	Roles    []identity.Role `json:"roles"`
	Sectors  []string        `json:"sectors"`
	Password string          `json:"password"`
}

// handleStaffCreate lets an administrator open an account at their center.
func handleStaffCreate(ids *identity.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req createStaffRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		admin := staffOf(c)
		st, err := ids.CreateStaff(c.UserContext(), "staff:"+admin.ID, identity.NewStaff{
			Center: admin.Center, Username: req.Username, Name: req.Name,
			Roles: req.Roles, Sectors: req.Sectors, Password: req.Password,
		}, origin(c))
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(viewStaff(st))
	}
}

func handleStaffList(ids *identity.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		all, err := ids.ListStaff(c.UserContext(), staffOf(c).Center)
		if err != nil {
			return err
		}
		items := make([]staffView, len(all))
		for i, st := range all {
			items[i] = viewStaff(st)
		}
		return c.JSON(fiber.Map{"items": items})
	}
}

type auditView struct {
	ID      string        `json:"id"`
	At      time.Time     `json:"at"`
	Actor   string        `json:"actor"`
	Role    string        `json:"role,omitempty"`
	Center  string        `json:"center,omitempty"`
	Action  string        `json:"action"`
	Subject string        `json:"subject,omitempty"`
	Target  string        `json:"target,omitempty"`
	Purpose string        `json:"purpose,omitempty"`
	Outcome audit.Outcome `json:"outcome"`
	IP      string        `json:"ip,omitempty"`
	Kiosk   string        `json:"kiosk,omitempty"`
}

// handleAuditList shows a center's audit log to its administrators and
// supervisors, newest first.
func handleAuditList(al *audit.Log) fiber.Handler {
	return func(c *fiber.Ctx) error {
		limit, err := web.QueryInt(c, "limit")
		if err != nil {
			return err
		}
		recs, err := al.List(c.UserContext(), audit.Filter{
			Center: staffOf(c).Center, Actor: c.Query("actor"), Action: c.Query("action"),
			Before: c.Query("cursor"), Limit: limit,
		})
		if err != nil {
			return err
		}
		items := make([]auditView, len(recs))
		for i, r := range recs {
			items[i] = auditView(r)
		}
		next := ""
		if len(recs) > 0 && len(recs) == max(limit, 100) || (limit > 0 && len(recs) == limit) {
			next = recs[len(recs)-1].ID
		}
		return c.JSON(fiber.Map{"items": items, "next": next})
	}
}

type createCourierRequest struct {
	Username string `json:"username"`
	Name     string `json:"name"`
	Company  string `json:"company"`
	Password string `json:"password"`
}

// handleCourierCreate opens a courier account at the administrator's center.
func handleCourierCreate(ids *identity.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req createCourierRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		admin := staffOf(c)
		st, err := ids.CreateStaff(c.UserContext(), "staff:"+admin.ID, identity.NewStaff{
			Center: admin.Center, Username: req.Username, Name: req.Name, Company: req.Company,
			Roles: []identity.Role{identity.RoleCourier}, Password: req.Password,
		}, origin(c))
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(viewStaff(st))
	}
}
