// Package mobileapi is the HTTP API of the WeChat mini-program
// (/api/v1/mp/) and the courier phones (/api/v1/courier/), and the public
// catalog reads that every client shares
// (/api/v1/centers, /sectors, /matters). It parses, validates, calls the
// business packages and renders; it holds no business rules.
package mobileapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/web"
)

// Deps are the services the mobile API calls.
type Deps struct {
	Catalog  *catalog.Service
	Citizens *identity.Citizens
	Queue    *queue.Service
	// Staff logs couriers in: couriers are accounts with the courier role.
	Staff *identity.Service
	// CourierLoginsPerMinute caps courier login attempts per address.
	CourierLoginsPerMinute int
}

// Routes registers every route of this package on app.
func Routes(app fiber.Router, d Deps) {
	v1 := app.Group("/api/v1")
	v1.Get("/centers", handleCenterList(d.Catalog))
	v1.Get("/sectors", handleSectorList(d.Catalog))
	v1.Get("/matters", handleMatterList(d.Catalog))
	v1.Get("/matters/:code", handleMatterGet(d.Catalog))

	v1.Post("/mp/login", handleMPLogin(d.Citizens))
	mp := v1.Group("/mp", requireCitizen(d.Citizens))
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

	v1.Post("/courier/login", web.LoginLimiter(d.CourierLoginsPerMinute), handleCourierLogin(d.Staff))
	courier := v1.Group("/courier", requireCourier(d.Staff))
	courier.Get("/me", handleCourierMe())
	courier.Post("/logout", handleCourierLogout(d.Staff))
}
