// Package console is the staff HTTP API (/api/v1/staff/) and the staff
// console pages (/console/): login and sessions, staff and courier
// accounts, kiosks, the audit log, catalog administration, and the
// working-day calendar.
package console

import (
	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/calendar"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/certificate"
	"github.com/banhao/banhao/internal/complaint"
	"github.com/banhao/banhao/internal/consult"
	"github.com/banhao/banhao/internal/delivery"
	"github.com/banhao/banhao/internal/idempotency"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/notify"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/report"
	"github.com/banhao/banhao/internal/review"
	"github.com/banhao/banhao/internal/web"
	"github.com/banhao/banhao/printing"
)

// Deps are the services and settings the console calls.
type Deps struct {
	Catalog  *catalog.Service
	Identity *identity.Service
	Audit    *audit.Log
	Kiosks   *identity.Kiosks
	Citizens *identity.Citizens
	Queue    *queue.Service
	// Cases runs applications: acceptance, decisions, supervision.
	Cases *cases.Service
	// Calendars are the working-day calendars administrators edit.
	Calendars *calendar.Service
	// SecureCookies marks the session cookies Secure (HTTPS only).
	SecureCookies bool
	// LoginsPerMinute caps login attempts per client address.
	LoginsPerMinute int
	// Delivery runs 证照免费寄送 at the 出件 window: parcels, couriers,
	// labels.
	Delivery *delivery.Service
	// Certificates is the e-certificate library (revocation); Printing
	// the print records (copies approved, print history).
	Certificates *certificate.Library
	Printing     *printing.Service
	// WindowPrinters are the windows' network printers, by window ID.
	WindowPrinters printing.Printers
	// Keys makes POSTs retryable with an Idempotency-Key; nil leaves them not.
	Keys *idempotency.Service
	// Review runs the rectification of bad reviews (差评整改) and the
	// satisfaction rates (好差评).
	Review *review.Service
	// Consult runs online consultations (网上咨询): replies, held texts, FAQs.
	Consult *consult.Service
	// Complaints runs complaints (投诉), 12345 hotline entries included.
	Complaints *complaint.Service
	// Reports builds the supervisors' reports (日通报、周抽查、月汇总).
	Reports *report.Service
	// Outbox is the notification outbox, whose dead letters (messages
	// that failed for good) supervisors and administrators list and
	// retry; nil leaves those routes out.
	Outbox *notify.Outbox
}

// Routes registers every route of this package on app.
func Routes(app fiber.Router, d Deps) {
	ids := d.Identity
	app.Post("/api/v1/staff/login", web.LoginLimiter(d.LoginsPerMinute), handleLogin(ids, d.SecureCookies))

	staff := app.Group("/api/v1/staff", requireStaff(ids))
	// A retried POST with the same Idempotency-Key gets the first answer.
	staff.Use(web.Idempotent(d.Keys, nil))
	staff.Post("/logout", handleLogout(ids))
	staff.Get("/me", handleMe())
	staff.Post("/password", handlePassword(ids))

	admin := requireRole(ids, identity.RoleAdmin)
	staff.Get("/accounts", admin, handleStaffList(ids))
	staff.Post("/accounts", admin, handleStaffCreate(ids))
	staff.Post("/couriers", admin, handleCourierCreate(ids))
	staff.Get("/citizens/lookup", requireRole(ids, identity.RoleClerk, identity.RoleApprover, identity.RoleSupervisor), handleCitizenLookup(d.Citizens))
	staff.Get("/windows", handleWindowList(d.Queue))
	staff.Post("/windows", admin, handleWindowCreate(d.Queue))
	clerk := requireRole(ids, identity.RoleClerk)
	staff.Post("/windows/:id/sign-in", clerk, handleWindowSignIn(d.Queue))
	staff.Post("/windows/:id/sign-out", requireRole(ids, identity.RoleClerk, identity.RoleSupervisor, identity.RoleAdmin), handleWindowSignOut(d.Queue))
	staff.Post("/windows/:id/call-next", clerk, handleCallNext(d.Queue))
	staff.Get("/windows/:id/tickets", handleAtWindow(d.Queue))
	staff.Post("/tickets/priority", requireRole(ids, identity.RoleClerk, identity.RoleSupervisor), handleTicketPriority(d.Queue))
	staff.Put("/slots/capacity", requireRole(ids, identity.RoleSupervisor, identity.RoleAdmin), handleSlotCapacity(d.Queue))
	for _, a := range []queue.Action{queue.ActionRecall, queue.ActionNoShow, queue.ActionComplete, queue.ActionPark, queue.ActionResume, queue.ActionTransfer} {
		if a == queue.ActionComplete {
			// A served ticket invites its holder to rate the service (好差评).
			staff.Post("/windows/:id/tickets/:ticket/"+string(a), clerk, inviteAfter(d.Review, review.EventTicket, "ticket"), handleTicketAct(d.Queue, a))
			continue
		}
		staff.Post("/windows/:id/tickets/:ticket/"+string(a), clerk, handleTicketAct(d.Queue, a))
	}
	staff.Get("/kiosks", admin, handleKioskList(d.Kiosks))
	staff.Post("/kiosks", admin, handleKioskRegister(d.Kiosks))
	staff.Post("/kiosks/:id/revoke", admin, handleKioskRevoke(d.Kiosks))
	staff.Get("/audit", requireRole(ids, identity.RoleAdmin, identity.RoleSupervisor), handleAuditList(d.Audit))

	staff.Get("/matters", admin, handleMatterList(d.Catalog))
	staff.Post("/matters", admin, handleMatterCreate(d.Catalog))
	staff.Get("/matters/:code/versions/:version", admin, handleMatterVersion(d.Catalog))
	staff.Put("/matters/:code", admin, handleMatterRevise(d.Catalog))
	staff.Post("/matters/:code/retire", admin, handleMatterRetire(d.Catalog))

	// Cases: the worklist (clerk: to accept; approver: to decide;
	// supervisor: the deadline board), acceptance with the one-time
	// notice and 容缺, decisions, clock changes and supervision. The case
	// service checks each role and sector itself.
	caseStaff := requireRole(ids, identity.RoleClerk, identity.RoleApprover, identity.RoleSupervisor)
	cd := caseDeps{cs: d.Cases, ids: ids}
	staff.Get("/cases", caseStaff, handleWorklist(cd))
	staff.Get("/cases/:id", caseStaff, handleStaffCaseGet(cd))
	staff.Post("/tickets/:ticket/cases", clerk, handleWindowCaseStart(cd, d.Queue))
	staff.Post("/cases/:id/materials/:n/paper", clerk, handleCasePaper(cd))
	staff.Get("/cases/:id/materials/:n/file", caseStaff, handleStaffCaseFile(cd))
	staff.Post("/cases/:id/submit", clerk, handleStaffCaseSubmit(cd))
	staff.Post("/cases/:id/accept", clerk, handleCaseAccept(cd))
	staff.Post("/cases/:id/return", caseStaff, handleCaseReturn(cd))
	staff.Post("/cases/:id/reject", clerk, handleCaseReject(cd))
	staff.Post("/cases/:id/decide", caseStaff, inviteAfter(d.Review, review.EventCase, "id"), handleCaseDecide(cd))
	staff.Post("/cases/:id/suspend", caseStaff, handleCaseSuspend(cd))
	staff.Post("/cases/:id/resume", caseStaff, handleCaseResume(cd))
	staff.Post("/cases/:id/extend", caseStaff, handleCaseExtend(cd))
	staff.Post("/cases/:id/materials/:n/waive", caseStaff, handleCaseWaive(cd))
	staff.Post("/cases/:id/green", caseStaff, handleCaseGreen(cd))
	staff.Post("/cases/:id/escalate", caseStaff, handleCaseEscalate(cd))

	// 差评整改: the sector's staff verify, rectify and follow up (回访);
	// a supervisor confirms an unfounded review. The review service
	// checks sectors and the supervisor's role itself.
	staff.Get("/rectifications", caseStaff, handleRectificationList(d.Review))
	staff.Get("/rectifications/:id", caseStaff, handleRectificationGet(d.Review))
	for _, step := range []string{"verify", "rectify", "follow-up", "confirm"} {
		staff.Post("/rectifications/:id/"+step, caseStaff, handleRectificationStep(d.Review, step))
	}
	staff.Get("/satisfaction", caseStaff, handleSatisfaction(d.Review))

	// 日通报、周抽查、月汇总: supervisors and administrators.
	reports := requireRole(ids, identity.RoleSupervisor, identity.RoleAdmin)
	staff.Get("/reports/daily", reports, handleReportDaily(d.Reports, false))
	staff.Get("/reports/daily.xlsx", reports, handleReportDaily(d.Reports, true))
	staff.Get("/reports/monthly", reports, handleReportMonthly(d.Reports, false))
	staff.Get("/reports/monthly.xlsx", reports, handleReportMonthly(d.Reports, true))
	staff.Get("/reports/spot-check", reports, handleReportSpotCheck(d.Reports))
	staff.Post("/reports/spot-check/marks", reports, handleReportMark(d.Reports))

	// 网上咨询 and 投诉: the services check center, sectors and the
	// handler or supervisor themselves.
	staff.Get("/consultations", caseStaff, handleConsultWorklist(d.Consult))
	staff.Get("/consultations/:id", caseStaff, handleConsultStaffGet(d.Consult))
	staff.Post("/consultations/:id/reply", caseStaff, inviteAfter(d.Review, review.EventConsultation, "id"), handleConsultReply(d.Consult))
	staff.Post("/consultations/:id/messages/:n/release", caseStaff, handleConsultReview(d.Consult, true))
	staff.Post("/consultations/:id/messages/:n/reject", caseStaff, handleConsultReview(d.Consult, false))
	staff.Post("/consultations/:id/faq", caseStaff, handleConsultFAQ(d.Consult))
	staff.Get("/complaints", caseStaff, handleComplaintWorklist(d.Complaints))
	staff.Post("/complaints", caseStaff, handleComplaintHotline(d.Complaints))
	staff.Get("/complaints/:id", caseStaff, handleComplaintStaffGet(d.Complaints))
	staff.Post("/complaints/:id/claim", caseStaff, handleComplaintClaim(d.Complaints))
	staff.Post("/complaints/:id/answer", caseStaff, handleComplaintAnswer(d.Complaints))
	staff.Post("/complaints/:id/decide", requireRole(ids, identity.RoleSupervisor), handleComplaintDecide(d.Complaints))

	// 证照免费寄送 at the 出件 window: the center's parcels, making one now,
	// giving it to a courier, its label.
	handOver := requireRole(ids, identity.RoleClerk, identity.RoleSupervisor)
	staff.Get("/couriers", requireRole(ids, identity.RoleClerk, identity.RoleSupervisor, identity.RoleAdmin), handleCourierList(ids))
	staff.Get("/parcels", handOver, handleParcelList(d.Delivery))
	staff.Post("/parcels/:id/assign", handOver, handleParcelAssign(d.Delivery))
	staff.Get("/parcels/:id/label", handOver, handleParcelLabel(d.Delivery))
	staff.Post("/cases/:id/dispatch", handOver, handleCaseDispatch(d.Delivery))

	// E-certificates: revocation by supervisors and administrators (the
	// QR code then verifies as 已注销), a clerk's approval of a copy, the
	// print history. Which certificates a staff member reaches follows
	// the case they were issued for.
	certs := certDeps{lib: d.Certificates, ps: d.Printing, cs: d.Cases, q: d.Queue, printers: d.WindowPrinters}
	staff.Post("/certificates/:id/revoke", requireRole(ids, identity.RoleSupervisor, identity.RoleAdmin), handleCertificateRevoke(certs))
	staff.Post("/certificates/:id/copies", clerk, handleCertificateCopy(certs, ids))
	staff.Post("/certificates/:id/window-print", clerk, handleCertificateWindowPrint(certs))
	staff.Get("/certificates/:id/prints", requireRole(ids, identity.RoleClerk, identity.RoleSupervisor, identity.RoleAdmin), handleCertificatePrints(certs, ids))

	supervise := requireRole(ids, identity.RoleAdmin, identity.RoleSupervisor)
	// 通知发送失败: the outbox's dead letters, each retried by hand.
	if d.Outbox != nil {
		staff.Get("/outbox/failed", supervise, handleOutboxFailed(d.Outbox))
		staff.Post("/outbox/retry", supervise, handleOutboxRetry(d.Outbox, d.Audit))
	}
	staff.Get("/calendars", supervise, handleCalendarList(d.Calendars))
	staff.Get("/calendars/:year", supervise, handleCalendarGet(d.Calendars))
	staff.Get("/calendars/:year/versions/:version", supervise, handleCalendarVersion(d.Calendars))
	staff.Put("/calendars/:year", admin, handleCalendarRevise(d.Calendars, d.Queue))
}
