// Package mobileapi is the HTTP API of the WeChat mini-program and the
// courier phones, and the public catalog reads that every client shares
// (/api/v1/centers, /sectors, /matters). It parses, validates, calls the
// business packages and renders; it holds no business rules.
package mobileapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/catalog"
)

// Deps are the services the mobile API calls.
type Deps struct {
	Catalog *catalog.Service
}

// Routes registers every route of this package on app.
func Routes(app fiber.Router, d Deps) {
	v1 := app.Group("/api/v1")
	v1.Get("/centers", handleCenterList(d.Catalog))
	v1.Get("/sectors", handleSectorList(d.Catalog))
	v1.Get("/matters", handleMatterList(d.Catalog))
	v1.Get("/matters/:code", handleMatterGet(d.Catalog))
}
