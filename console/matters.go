package console

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/web"
)

type matterList struct {
	Items []catalog.Matter `json:"items"`
	Next  string           `json:"next,omitempty"`
}

// handleMatterList lists matters for administrators, retired ones included.
func handleMatterList(svc *catalog.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		limit, err := web.QueryInt(c, "limit")
		if err != nil {
			return err
		}
		page, err := svc.Matters(c.UserContext(), catalog.Query{
			Center:         c.Query("center"),
			Sector:         c.Query("sector"),
			Cursor:         c.Query("cursor"),
			Limit:          limit,
			IncludeRetired: true,
		})
		if err != nil {
			return err
		}
		return c.JSON(matterList{Items: page.Items, Next: page.Next})
	}
}

// handleMatterCreate adds a matter. The body is the whole guide; version,
// status, updated_at and updated_by are set by the server.
func handleMatterCreate(svc *catalog.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var m catalog.Matter
		if err := web.DecodeJSON(c, &m); err != nil {
			return err
		}
		m.Status = ""
		ed, err := editor(c, svc)
		if err != nil {
			return err
		}
		created, err := svc.CreateMatter(c.UserContext(), m, ed)
		if err != nil {
			return err
		}
		c.Location("/api/v1/matters/" + created.Code)
		return c.Status(fiber.StatusCreated).JSON(created)
	}
}

// handleMatterRevise saves an edited guide as a new version. The body's
// "version" must be the version the editor loaded.
func handleMatterRevise(svc *catalog.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var m catalog.Matter
		if err := web.DecodeJSON(c, &m); err != nil {
			return err
		}
		if m.Version < 1 {
			return apperr.Fields(apperr.FieldError{Field: "version", Message: "请填写所修改的版本号"})
		}
		ed, err := editor(c, svc)
		if err != nil {
			return err
		}
		revised, err := svc.ReviseMatter(c.UserContext(), c.Params("code"), m.Version, m, ed)
		if err != nil {
			return err
		}
		return c.JSON(revised)
	}
}

type retireRequest struct {
	Version int `json:"version"`
}

// handleMatterRetire retires a matter as a new version.
func handleMatterRetire(svc *catalog.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req retireRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		if req.Version < 1 {
			return apperr.Fields(apperr.FieldError{Field: "version", Message: "请填写所停办的版本号"})
		}
		ed, err := editor(c, svc)
		if err != nil {
			return err
		}
		retired, err := svc.RetireMatter(c.UserContext(), c.Params("code"), req.Version, ed)
		if err != nil {
			return err
		}
		return c.JSON(retired)
	}
}

// handleMatterVersion returns one past or current version of a guide.
func handleMatterVersion(svc *catalog.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := strconv.Atoi(c.Params("version"))
		if err != nil || v < 1 {
			return apperr.New(apperr.NotFound, "没有这个事项版本")
		}
		m, err := svc.MatterVersion(c.UserContext(), c.Params("code"), v)
		if err != nil {
			return err
		}
		return c.JSON(m)
	}
}

// editor is the logged-in administrator as a catalog editor: of their own
// center and the township centers under it.
func editor(c *fiber.Ctx, svc *catalog.Service) (catalog.Editor, error) {
	st := staffOf(c)
	centers, err := svc.EditableCenters(c.UserContext(), st.Center)
	if err != nil {
		return catalog.Editor{}, err
	}
	return catalog.Editor{Actor: "staff:" + st.ID, Centers: centers, IP: c.IP()}, nil
}
