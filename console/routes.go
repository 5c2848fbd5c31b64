// Package console is the staff HTTP API (/api/v1/staff/) and, later, the
// staff console pages. For now it carries the catalog administration,
// guarded by the bootstrap administrator token until staff accounts land.
package console

import (
	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/web"
)

// Deps are the services and settings the console calls.
type Deps struct {
	Catalog *catalog.Service
	// AdminToken is the bootstrap administrator token; empty closes administration.
	AdminToken string
}

// Routes registers every route of this package on app.
func Routes(app fiber.Router, d Deps) {
	staff := app.Group("/api/v1/staff", web.RequireAdminToken(d.AdminToken))
	staff.Get("/matters", handleMatterList(d.Catalog))
	staff.Post("/matters", handleMatterCreate(d.Catalog))
	staff.Get("/matters/:code/versions/:version", handleMatterVersion(d.Catalog))
	staff.Put("/matters/:code", handleMatterRevise(d.Catalog))
	staff.Post("/matters/:code/retire", handleMatterRetire(d.Catalog))
}
