// Package mobileapi is the HTTP API of the WeChat mini-program
// (/api/v1/mp/) and the courier phones (/api/v1/courier/), and the public
// catalog reads that every client shares
// (/api/v1/centers, /sectors, /matters). It parses, validates, calls the
// business packages and renders; it holds no business rules.
package mobileapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/complaint"
	"github.com/banhao/banhao/internal/consult"
	"github.com/banhao/banhao/internal/delivery"
	"github.com/banhao/banhao/internal/idempotency"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/review"
	"github.com/banhao/banhao/internal/web"
)

// Deps are the services the mobile API calls.
type Deps struct {
	Catalog  *catalog.Service
	Citizens *identity.Citizens
	Queue    *queue.Service
	// Cases runs the citizen's applications.
	Cases *cases.Service
	// CaseLookupsPerMinute caps public case lookups (number + query code) per address.
	CaseLookupsPerMinute int
	// Staff logs couriers in: couriers are accounts with the courier role.
	Staff *identity.Service
	// CourierLoginsPerMinute caps courier login attempts per address.
	CourierLoginsPerMinute int
	// LoginsPerMinute caps mini-program logins per address.
	LoginsPerMinute int
	// WritesPerMinute caps each citizen's POST, PUT and DELETE requests.
	WritesPerMinute int
	// Delivery runs 证照免费寄送: the citizen's address, the courier's
	// parcels.
	Delivery *delivery.Service
	// Review runs 好差评: the citizen's ratings of their service events.
	Review *review.Service
	// Consult runs online consultations (网上咨询) and their FAQs.
	Consult *consult.Service
	// Complaints runs complaints (投诉).
	Complaints *complaint.Service
	// Keys makes POSTs retryable with an Idempotency-Key; nil leaves them not.
	Keys *idempotency.Service
}

// Routes registers every route of this package on app.
func Routes(app fiber.Router, d Deps) {
	v1 := app.Group("/api/v1")
	v1.Get("/centers", handleCenterList(d.Catalog))
	v1.Get("/sectors", handleSectorList(d.Catalog))
	v1.Get("/matters", handleMatterList(d.Catalog))
	v1.Get("/matters/:code", handleMatterGet(d.Catalog))
	v1.Get("/matters/:code/faqs", handleMatterFAQs(d.Consult))

	// Every public write is limited: logins per address (each costs a
	// WeChat call), changes per citizen.
	v1.Post("/mp/login", web.RateLimiter(max(d.LoginsPerMinute, 1), "登录过于频繁，请稍后再试"), handleMPLogin(d.Citizens))
	mp := v1.Group("/mp", requireCitizen(d.Citizens))
	// A retried POST with the same Idempotency-Key gets the first answer.
	mp.Use(web.CallerLimiter(max(d.WritesPerMinute, 1), "操作过于频繁，请稍后再试"))
	mp.Use(web.Idempotent(d.Keys, nil))
	mp.Post("/logout", handleMPLogout(d.Citizens))
	mp.Get("/me", handleMe(d.Citizens))
	mp.Post("/me/real-name", handleRealName(d.Citizens))
	mp.Post("/me/phone", handlePhone(d.Citizens))
	mp.Post("/tickets", handleMPTicketTake(d.Queue))
	mp.Get("/tickets/:id", handleMPTicketGet(d.Queue))
	mp.Get("/slots", handleSlots(d.Queue))
	mp.Post("/appointments", handleBook(d.Queue))
	mp.Get("/appointments", handleAppointmentList(d.Queue))
	mp.Get("/appointments/:id", handleAppointmentGet(d.Queue))
	mp.Post("/appointments/:id/cancel", handleAppointmentCancel(d.Queue))
	mp.Post("/appointments/:id/reschedule", handleAppointmentReschedule(d.Queue))
	mp.Get("/me/data-use", handleDataUse(d.Citizens))
	mp.Post("/cases", handleCaseStart(d.Cases))
	mp.Get("/cases", handleCaseList(d.Cases))
	mp.Get("/cases/:id", handleCaseGet(d.Cases))
	mp.Put("/cases/:id/form", handleCaseForm(d.Cases))
	mp.Get("/cases/:id/reusable", handleCaseReusable(d.Cases))
	mp.Post("/cases/:id/materials/:n/file", handleCaseUpload(d.Cases))
	mp.Get("/cases/:id/materials/:n/file", handleCaseFile(d.Cases))
	mp.Post("/cases/:id/materials/:n/reuse", handleCaseReuse(d.Cases))
	mp.Delete("/cases/:id/materials/:n", handleCaseMaterialRemove(d.Cases))
	mp.Post("/cases/:id/submit", handleCaseSubmit(d.Cases))
	mp.Post("/cases/:id/withdraw", handleCaseWithdraw(d.Cases))
	mp.Put("/cases/:id/delivery", handleDeliverySet(d.Delivery))
	mp.Get("/cases/:id/delivery", handleDeliveryGet(d.Delivery))
	mp.Get("/parcels/:id", handleMPParcel(d.Delivery))
	mp.Post("/consultations", handleConsultAsk(d.Consult))
	mp.Get("/consultations", handleConsultList(d.Consult))
	mp.Get("/consultations/:id", handleConsultGet(d.Consult))
	mp.Post("/consultations/:id/messages", handleConsultFollowUp(d.Consult))
	mp.Post("/consultations/:id/confirm", handleConsultConfirm(d.Consult))
	mp.Post("/complaints", handleComplaintFile(d.Complaints))
	mp.Get("/complaints", handleComplaintList(d.Complaints))
	mp.Get("/complaints/:id", handleComplaintGet(d.Complaints))
	mp.Post("/complaints/:id/confirm", handleComplaintConfirm(d.Complaints))
	mp.Post("/evaluations", handleEvaluationCreate(d.Review))
	mp.Get("/evaluations", handleEvaluationList(d.Review))
	mp.Get("/evaluations/pending", handleEvaluationPending(d.Review))
	// Anyone with the acceptance notice follows the case; guessing codes
	// is slowed down per address.
	v1.Get("/cases/lookup", web.RateLimiter(max(d.CaseLookupsPerMinute, 1), "查询过于频繁，请稍后再试"), handleCaseLookup(d.Cases))

	v1.Post("/courier/login", web.LoginLimiter(d.CourierLoginsPerMinute), handleCourierLogin(d.Staff))
	courier := v1.Group("/courier", requireCourier(d.Staff))
	courier.Use(web.Idempotent(d.Keys, nil))
	courier.Get("/me", handleCourierMe())
	courier.Post("/logout", handleCourierLogout(d.Staff))
	courier.Get("/parcels", handleCourierParcels(d.Delivery))
	courier.Post("/parcels/:id/pickup", handleCourierPickup(d.Delivery))
	courier.Post("/parcels/:id/deliver", inviteAfter(d.Review, review.EventParcel, "id"), handleCourierDeliver(d.Delivery))
	courier.Post("/parcels/:id/fail", handleCourierFail(d.Delivery))
	courier.Post("/parcels/:id/return", handleCourierReturn(d.Delivery))
	// The courier's phone page.
	app.Get("/courier/", handleCourierPage())
}
