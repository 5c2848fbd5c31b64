package mobileapi

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/web"
)

type listResponse[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

func handleCenterList(svc *catalog.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		centers, err := svc.Centers(c.UserContext())
		if err != nil {
			return err
		}
		return c.JSON(listResponse[catalog.Center]{Items: centers})
	}
}

func handleSectorList(svc *catalog.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		center := c.Query("center")
		if center == "" {
			return apperr.Fields(apperr.FieldError{Field: "center", Message: "请指定服务中心"})
		}
		sectors, err := svc.Sectors(c.UserContext(), center)
		if err != nil {
			return err
		}
		return c.JSON(listResponse[catalog.Sector]{Items: sectors})
	}
}

// matterSummary is a matter as listed: enough for a result row.
type matterSummary struct {
	Code         string            `json:"code"`
	Center       string            `json:"center"`
	Sector       string            `json:"sector"`
	Name         string            `json:"name"`
	Kind         catalog.Kind      `json:"kind"`
	KindLabel    string            `json:"kind_label"`
	Result       string            `json:"result,omitempty"`
	PromisedDays int               `json:"promised_days"`
	Visits       int               `json:"visits"`
	FeeFen       int64             `json:"fee_fen"`
	Channels     []catalog.Channel `json:"channels"`
	Status       catalog.Status    `json:"status"`
	Version      int               `json:"version"`
}

func summarize(m catalog.Matter) matterSummary {
	return matterSummary{
		Code: m.Code, Center: m.Center, Sector: m.Sector, Name: m.Name,
		Kind: m.Kind, KindLabel: m.Kind.Label(), Result: m.Result,
		PromisedDays: m.PromisedDays, Visits: m.Visits, FeeFen: m.FeeFen,
		Channels: m.Channels, Status: m.Status, Version: m.Version,
	}
}

func handleMatterList(svc *catalog.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		limit, err := web.QueryInt(c, "limit")
		if err != nil {
			return err
		}
		page, err := svc.Matters(c.UserContext(), catalog.Query{
			Center:  c.Query("center"),
			Sector:  c.Query("sector"),
			Kind:    catalog.Kind(c.Query("kind")),
			Channel: catalog.Channel(c.Query("channel")),
			Text:    c.Query("q"),
			Cursor:  c.Query("cursor"),
			Limit:   limit,
		})
		if err != nil {
			return err
		}
		items := make([]matterSummary, len(page.Items))
		for i, m := range page.Items {
			items[i] = summarize(m)
		}
		return c.JSON(listResponse[matterSummary]{Items: items, Next: page.Next})
	}
}

// matterGuide is a matter with its whole service guide.
type matterGuide struct {
	catalog.Matter
	KindLabel string `json:"kind_label"`
	// UpdatedBy is hidden from the public: it names staff.
	UpdatedBy *struct{} `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

func handleMatterGet(svc *catalog.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		m, err := svc.Matter(c.UserContext(), c.Params("code"))
		if err != nil {
			return err
		}
		return c.JSON(matterGuide{Matter: m, KindLabel: m.Kind.Label(), UpdatedAt: inChina(m.UpdatedAt)})
	}
}

// inChina renders a time with the +08:00 offset the API contract asks for.
func inChina(t time.Time) time.Time { return t.In(time.FixedZone("CST", 8*3600)) }
