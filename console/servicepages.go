package console

import (
	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/identity"
)

// handleService serves 咨询与投诉 (/console/service): the sector's
// consultations by first-reply deadline with their replies, held messages
// and FAQs, and the open complaints with claim, answer and, for
// supervisors only, the closing decision. The page only shows;
// /static/console-service.js calls the consultation and complaint APIs,
// which check every role and sector again.
func (p *consolePages) handleService() fiber.Handler {
	return func(c *fiber.Ctx) error {
		st, ok, err := p.loggedIn(c)
		if err != nil {
			return err
		}
		if !ok {
			return c.Redirect("/console/login", fiber.StatusSeeOther)
		}
		v := consoleView{Title: "咨询与投诉", Staff: viewStaff(st), IsSupervisor: st.HasRole(identity.RoleSupervisor), CanCases: worksCases(st)}
		if _, err := p.withCenter(c, st, &v); err != nil {
			return err
		}
		for _, code := range st.Sectors {
			name := code
			for _, s := range v.Sectors {
				if s.Code == code {
					name = s.Name
				}
			}
			v.StaffSectors = append(v.StaffSectors, name)
		}
		return p.render(c, "service", v)
	}
}
