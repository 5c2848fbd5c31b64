package console

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
)

// reportView holds the periods the 报表 page opens on: today, this month
// and this ISO week at the center, so that the page and the server agree
// on "today" whatever the browser's clock says.
type reportView struct {
	Date, Month, Week string
}

// readsReports reports whether st holds a role the report API admits.
func readsReports(st identity.Staff) bool {
	return st.HasRole(identity.RoleSupervisor) || st.HasRole(identity.RoleAdmin)
}

// today is the server's clock at the centers, or the machine's when the
// page has no case service to ask.
func (p *consolePages) today() time.Time {
	if p.d.Cases != nil {
		return p.d.Cases.Now().In(p.d.Cases.Location())
	}
	return time.Now()
}

// handleReports serves 报表 (/console/reports) to supervisors and
// administrators: the daily notice, the monthly summary with its charts
// and the weekly spot check with its marks. The page only shows;
// /static/console-reports.js calls the report API, which checks the role
// again. Other staff are refused like any page they may not open.
func (p *consolePages) handleReports() fiber.Handler {
	return func(c *fiber.Ctx) error {
		st, ok, err := p.loggedIn(c)
		if err != nil {
			return err
		}
		if !ok {
			return c.Redirect("/console/login", fiber.StatusSeeOther)
		}
		if !readsReports(st) {
			return apperr.New(apperr.Forbidden, "报表仅供督办人员和管理员查看")
		}
		now := p.today()
		y, w := now.ISOWeek()
		v := consoleView{Title: "报表", Staff: viewStaff(st), CanCases: worksCases(st), CanReports: true,
			Report: &reportView{Date: now.Format(time.DateOnly), Month: now.Format("2006-01"), Week: fmt.Sprintf("%d-W%02d", y, w)}}
		if _, err := p.withCenter(c, st, &v); err != nil {
			return err
		}
		// A mark names who gave it by account ID.
		all, err := p.d.Identity.ListStaff(c.UserContext(), st.Center)
		if err != nil {
			return err
		}
		for _, a := range all {
			v.StaffNames = append(v.StaffNames, staffName{ID: a.ID, Name: a.Name, Username: a.Username})
		}
		return p.render(c, "reports", v)
	}
}
