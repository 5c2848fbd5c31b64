package console

import (
	"bytes"
	"fmt"
	"html/template"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/assets"
	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/calendar"
	"github.com/banhao/banhao/internal/cases"
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
	// Cases renders the printable notices of a case (一次告知书, 受理通知书);
	// nil leaves those pages unavailable, the 办件工作台 still works.
	Cases *cases.Service
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
	// 办件工作台 and the printable notices of a case.
	app.Get("/console/cases", p.handleCases())
	app.Get("/console/cases/:id/notice", p.handleCaseNotice(false))
	app.Get("/console/cases/:id/acceptance", p.handleCaseNotice(true))
	// 咨询与投诉: replies, held messages, FAQs and complaints.
	app.Get("/console/service", p.handleService())
	// 报表: 日通报、月汇总 with charts, 周抽查 with marks.
	app.Get("/console/reports", p.handleReports())
	// 通知发送失败: the outbox's dead letters, retried by hand.
	app.Get("/console/outbox", p.handleOutbox())
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
	for _, name := range []string{"login", "home", "cases", "notice", "service", "reports", "outbox"} {
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
	// IsApprover and IsSupervisor, with IsClerk, choose the sections and
	// actions of the 办件工作台; CanCases links to it from the home page.
	IsApprover   bool
	IsSupervisor bool
	CanCases     bool
	// CaseNotice is the printable notice of a case page.
	CaseNotice *noticeView
	// CanReports links to 报表, for supervisors and administrators (the
	// roles the report API admits), and to 通知发送失败, which the same
	// roles see; Report is the 报表 page's periods.
	CanReports bool
	Report     *reportView
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
			CanSetPriority: st.HasRole(identity.RoleClerk) || st.HasRole(identity.RoleSupervisor), CanCases: worksCases(st),
			CanReports: readsReports(st)}
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

// worksCases reports whether st holds a role the case API admits:
// clerks, approvers and supervisors work on cases, administrators do not.
func worksCases(st identity.Staff) bool {
	return st.HasRole(identity.RoleClerk) || st.HasRole(identity.RoleApprover) || st.HasRole(identity.RoleSupervisor)
}

// caseStaffer is a page's signed-in staff member as the case service knows
// them; the API's staffer builds the same from the request's session.
func caseStaffer(st identity.Staff) cases.Staffer {
	return cases.Staffer{ID: st.ID, Center: st.Center, Sectors: st.Sectors,
		Clerk: st.HasRole(identity.RoleClerk), Approver: st.HasRole(identity.RoleApprover),
		Supervisor: st.HasRole(identity.RoleSupervisor), Admin: st.HasRole(identity.RoleAdmin)}
}

// withCenter names the staff member's center and lists its sectors in v.
// A center the catalog no longer has shows as its code.
func (p *consolePages) withCenter(c *fiber.Ctx, st identity.Staff, v *consoleView) (catalog.Center, error) {
	v.CenterName = st.Center
	ce, err := p.d.Catalog.Center(c.UserContext(), st.Center)
	if apperr.Is(err, apperr.NotFound) {
		return catalog.Center{Code: st.Center, Name: st.Center}, nil
	}
	if err != nil {
		return ce, err
	}
	v.CenterName = ce.Name
	v.Sectors, err = p.d.Catalog.Sectors(c.UserContext(), st.Center)
	return ce, err
}

// handleCases serves the 办件工作台: the worklist of the staff member's
// role (clerks: to accept; approvers: to decide; supervisors: the 督办
// board) and the chosen case with the actions the roles allow. The page
// only shows; /static/console-cases.js calls the case API, which checks
// every role and sector again.
func (p *consolePages) handleCases() fiber.Handler {
	return func(c *fiber.Ctx) error {
		st, ok, err := p.loggedIn(c)
		if err != nil {
			return err
		}
		if !ok {
			return c.Redirect("/console/login", fiber.StatusSeeOther)
		}
		v := consoleView{Title: "办件工作台", Staff: viewStaff(st), IsClerk: st.HasRole(identity.RoleClerk),
			IsApprover: st.HasRole(identity.RoleApprover), IsSupervisor: st.HasRole(identity.RoleSupervisor), CanCases: worksCases(st)}
		if _, err := p.withCenter(c, st, &v); err != nil {
			return err
		}
		if v.CanCases {
			// The timeline names who acted (亮牌办公), by the IDs it keeps.
			all, err := p.d.Identity.ListStaff(c.UserContext(), st.Center)
			if err != nil {
				return err
			}
			for _, a := range all {
				v.StaffNames = append(v.StaffNames, staffName{ID: a.ID, Name: a.Name, Username: a.Username})
			}
		}
		return p.render(c, "cases", v)
	}
}

// noticeView is a printable notice of a case: the one-time notice
// (一次告知书) that lists every problem at once, or the acceptance notice
// (受理通知书) with the number, query code and promised day.
type noticeView struct {
	Acceptance bool
	CaseID     string
	Number     string
	QueryCode  string
	MatterName string
	Office     string
	Date       string
	Phone      string
	Address    string

	// Seq is which one-time notice of Count this is; Override is the
	// supervisor's reason when a later notice needed one.
	Seq, Count int
	Problems   []noticeProblem
	Override   string

	PromisedDays  int
	StatutoryDays int
	DueDay        string
	Pending       []string
	SupplyDue     string
	Commitment    string
}

// noticeProblem is one numbered item of a one-time notice.
type noticeProblem struct {
	Material string
	Reason   string
}

// chineseDate writes a date as on an official notice: 2026年11月25日.
func chineseDate(t time.Time) string { return t.Format("2006年1月2日") }

// chineseDay writes a working day of the calendar the same way.
func chineseDay(d calendar.Day) string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d年%d月%d日", d.Year, int(d.Month), d.Day)
}

// handleCaseNotice serves a case's printable one-time notice (?n= picks an
// earlier one, from 1; the latest by default) or, with acceptance, its
// acceptance notice, to staff who may see the case.
func (p *consolePages) handleCaseNotice(acceptance bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		st, ok, err := p.loggedIn(c)
		if err != nil {
			return err
		}
		if !ok {
			return c.Redirect("/console/login", fiber.StatusSeeOther)
		}
		if p.d.Cases == nil {
			return apperr.New(apperr.Unavailable, "办件服务暂不可用，无法打印通知书")
		}
		k, err := p.d.Cases.StaffCase(c.UserContext(), caseStaffer(st), c.Params("id"))
		if err != nil {
			return err
		}
		v := consoleView{Staff: viewStaff(st)}
		ce, err := p.withCenter(c, st, &v)
		if err != nil {
			return err
		}
		loc := p.d.Cases.Location()
		n := &noticeView{Acceptance: acceptance, CaseID: k.ID, Number: k.Number, QueryCode: k.QueryCode,
			MatterName: k.MatterName, Phone: ce.Phone, Address: ce.Address}
		if acceptance {
			if k.AcceptedAt.IsZero() {
				return apperr.New(apperr.NotFound, "该办件尚未受理，没有受理通知书")
			}
			v.Title = "受理通知书 " + k.Number
			n.Office, n.Date = cases.OfficeWindow, chineseDate(k.AcceptedAt.In(loc))
			n.PromisedDays, n.StatutoryDays = k.Clock.Days, k.StatutoryDays
			if clk, ok := p.d.Cases.ClockOf(k, p.d.Cases.Now()); ok {
				n.DueDay = chineseDay(clk.DueDay)
				if clk.Supply != nil {
					n.SupplyDue = chineseDay(clk.Supply.DueDay)
				}
			}
			for _, i := range k.PendingMaterials() {
				n.Pending = append(n.Pending, k.Materials[i].Name)
			}
			if k.Pending != nil && len(n.Pending) > 0 {
				n.Commitment = k.Pending.Commitment
			}
		} else {
			if len(k.Notices) == 0 {
				return apperr.New(apperr.NotFound, "该办件没有一次告知书")
			}
			n.Count, n.Seq = len(k.Notices), len(k.Notices)
			if q := c.Query("n"); q != "" {
				if n.Seq, err = strconv.Atoi(q); err != nil || n.Seq < 1 || n.Seq > n.Count {
					return apperr.New(apperr.NotFound, "没有这份一次告知书")
				}
			}
			nt := k.Notices[n.Seq-1]
			v.Title = "一次性告知书 " + k.Number
			n.Office, n.Date = nt.Office, chineseDate(nt.At.In(loc))
			for _, pr := range nt.Problems {
				name := "其他问题"
				if pr.Material >= 0 && pr.Material < len(k.Materials) {
					name = k.Materials[pr.Material].Name
				}
				n.Problems = append(n.Problems, noticeProblem{Material: name, Reason: pr.Reason})
			}
			if nt.Override != nil {
				n.Override = nt.Override.Reason
			}
		}
		v.CaseNotice = n
		return p.render(c, "notice", v)
	}
}
