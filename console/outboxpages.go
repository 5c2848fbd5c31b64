package console

import (
	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
)

// handleOutbox serves 通知发送失败 (/console/outbox) to supervisors and
// administrators: the outbox's dead letters, each with a 重新发送 button.
// The page only shows; /static/console-outbox.js calls the outbox API,
// which checks the role again.
func (p *consolePages) handleOutbox() fiber.Handler {
	return func(c *fiber.Ctx) error {
		st, ok, err := p.loggedIn(c)
		if err != nil {
			return err
		}
		if !ok {
			return c.Redirect("/console/login", fiber.StatusSeeOther)
		}
		if !readsReports(st) { // the same roles as the reports
			return apperr.New(apperr.Forbidden, "通知发送失败记录仅供督办人员和管理员查看")
		}
		v := consoleView{Title: "通知发送失败", Staff: viewStaff(st), CanCases: worksCases(st), CanReports: true}
		if _, err := p.withCenter(c, st, &v); err != nil {
			return err
		}
		return p.render(c, "outbox", v)
	}
}
