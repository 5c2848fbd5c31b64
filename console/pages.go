package console

import (
	"bytes"
	"fmt"
	"html/template"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/assets"
	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/identity"
)

// PageDeps are the services the console pages read when they render: the
// page itself knows who is logged in, so that a clerk's browser never
// receives the administrators' section, and names the center and sectors
// instead of showing their codes.
type PageDeps struct {
	Identity *identity.Service
	Catalog  *catalog.Service
}

// PageRoutes registers the staff console pages. Their behaviour is in
// /static/console.js, which calls the staff API under /api/v1/staff/; the
// static files themselves are served by the kiosk package's /static route.
func PageRoutes(app *fiber.App, d PageDeps) error {
	p, err := newConsolePages(d)
	if err != nil {
		return err
	}
	app.Get("/console/", p.handleHome())
	app.Get("/console/login", p.handleLogin())
	return nil
}

// pageCSP allows nothing but this server's own script, styles and API: no
// inline script or style, no framing (the console changes accounts, so it
// must not be clickjacked), no form posts elsewhere.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

type consolePages struct {
	d     PageDeps
	views map[string]*template.Template
}

func newConsolePages(d PageDeps) (*consolePages, error) {
	p := &consolePages{d: d, views: map[string]*template.Template{}}
	for _, name := range []string{"login", "home"} {
		t, err := template.New("layout.html").ParseFS(assets.FS,
			"templates/console/layout.html", "templates/console/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: parse %s page: %w", name, err)
		}
		p.views[name] = t
	}
	return p, nil
}

// roleOption is one checkbox of the create-account form.
type roleOption struct {
	Value identity.Role
	Label string
}

// staffName names one account for the audit log.
type staffName struct {
	ID, Name, Username string
}

// consoleView is what every console page template gets.
type consoleView struct {
	Title string
	// Notice says why the login page is shown (logged out, password
	// changed, session ended); only fixed texts, never request input.
	Notice     string
	Staff      staffView
	CenterName string
	// StaffSectors are the names of the sectors the staff member acts in;
	// empty means all of the center's sectors.
	StaffSectors []string
	IsAdmin      bool
	// IsClerk shows the 叫号 panel, to the window clerks the call API
	// admits; its transfer select lists Sectors.
	IsClerk bool
	// CanAudit shows the audit log section, to administrators and
	// supervisors (the roles the audit API admits).
	CanAudit bool
	// CanSetPriority shows 优先办理确认, to clerks and supervisors (the
	// roles the ticket priority API admits): they confirm a declared
	// priority after seeing the citizen's papers.
	CanSetPriority bool
	// StaffNames name the center's accounts, so that the audit log shows
	// who acted instead of an account ID; a supervisor has no account list
	// to learn them from.
	StaffNames []staffName
	Roles      []roleOption
	// Sectors are the center's sectors, offered to administrators when
	// they limit a new account to some of them, and to clerks as the
	// targets of a transfer.
	Sectors []catalog.Sector
}

// loginNotices are the messages the script may ask the login page to show
// after it sends the browser there.
var loginNotices = map[string]string{
	"logout":   "您已退出登录。",
	"password": "密码已修改，所有登录已结束，请用新密码重新登录。",
	"expired":  "登录已失效，请重新登录。",
}

func (p *consolePages) render(c *fiber.Ctx, name string, v consoleView) error {
	var buf bytes.Buffer
	if err := p.views[name].Execute(&buf, v); err != nil {
		return fmt.Errorf("console: render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	// The home page names the staff member; no cache may keep it for the
	// next person at a shared desk.
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentSecurityPolicy, pageCSP)
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	return c.Send(buf.Bytes())
}

// loggedIn returns the staff member of the request's session cookie, if
// that session is still valid. Pages accept the cookie only: a page load
// carries no bearer token.
func (p *consolePages) loggedIn(c *fiber.Ctx) (identity.Staff, bool, error) {
	token := c.Cookies(sessionCookie)
	if token == "" {
		return identity.Staff{}, false, nil
	}
	_, st, err := p.d.Identity.AuthenticateStaff(c.UserContext(), token)
	if apperr.Is(err, apperr.Unauthorized) {
		return identity.Staff{}, false, nil
	}
	if err != nil {
		return identity.Staff{}, false, err
	}
	return st, true, nil
}

func (p *consolePages) handleLogin() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if _, ok, err := p.loggedIn(c); err != nil {
			return err
		} else if ok {
			return c.Redirect("/console/", fiber.StatusSeeOther)
		}
		return p.render(c, "login", consoleView{Title: "工作人员登录", Notice: loginNotices[c.Query("reason")]})
	}
}

func (p *consolePages) handleHome() fiber.Handler {
	return func(c *fiber.Ctx) error {
		st, ok, err := p.loggedIn(c)
		if err != nil {
			return err
		}
		if !ok {
			return c.Redirect("/console/login", fiber.StatusSeeOther)
		}
		v := consoleView{Title: "工作台首页", Staff: viewStaff(st), CenterName: st.Center, IsAdmin: st.HasRole(identity.RoleAdmin),
			IsClerk: st.HasRole(identity.RoleClerk), CanAudit: st.HasRole(identity.RoleAdmin) || st.HasRole(identity.RoleSupervisor),
			CanSetPriority: st.HasRole(identity.RoleClerk) || st.HasRole(identity.RoleSupervisor)}
		ce, err := p.d.Catalog.Center(c.UserContext(), st.Center)
		switch {
		case err == nil:
			v.CenterName = ce.Name
			if v.Sectors, err = p.d.Catalog.Sectors(c.UserContext(), st.Center); err != nil {
				return err
			}
		case !apperr.Is(err, apperr.NotFound):
			return err
		}
		// An account may name a sector the catalog no longer has; show its
		// code rather than hide that it is limited.
		for _, code := range st.Sectors {
			name := code
			for _, s := range v.Sectors {
				if s.Code == code {
					name = s.Name
				}
			}
			v.StaffSectors = append(v.StaffSectors, name)
		}
		if v.CanAudit {
			all, err := p.d.Identity.ListStaff(c.UserContext(), st.Center)
			if err != nil {
				return err
			}
			for _, a := range all {
				v.StaffNames = append(v.StaffNames, staffName{ID: a.ID, Name: a.Name, Username: a.Username})
			}
		}
		if v.IsAdmin {
			for _, r := range []identity.Role{identity.RoleClerk, identity.RoleApprover, identity.RoleSupervisor, identity.RoleAdmin} {
				v.Roles = append(v.Roles, roleOption{Value: r, Label: r.Label()})
			}
		}
		return p.render(c, "home", v)
	}
}
