package mobileapi

import (
	"bytes"
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/web"
)

// person is the signed-in citizen as the case service knows people: by
// real name when bound, so the same cases show at a kiosk.
func person(c *fiber.Ctx) cases.Person {
	ct := citizenOf(c)
	p := cases.Person{Citizen: "citizen:" + ct.ID}
	if ct.Bound() {
		p.Holder = "id:" + ct.IDIndex
	}
	return p
}

func caseView(cs *cases.Service, c cases.Case) web.CaseView {
	clk, ok := cs.ClockOf(c, cs.Now())
	return web.NewCaseView(c, clk, ok, cs.Location(), true)
}

type caseStartRequest struct {
	Matter string `json:"matter"`
}

// handleCaseStart opens a draft for a matter that can be applied for online.
func handleCaseStart(cs *cases.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req caseStartRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		if req.Matter == "" {
			return apperr.Fields(apperr.FieldError{Field: "matter", Message: "请选择事项"})
		}
		k, err := cs.Start(c.UserContext(), person(c), cases.StartRequest{Matter: req.Matter, Channel: catalog.ChannelOnline})
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(caseView(cs, k))
	}
}

// caseSummary is a line of the citizen's case list.
type caseSummary struct {
	ID         string             `json:"id"`
	Number     string             `json:"number"`
	MatterName string             `json:"matter_name"`
	State      cases.State        `json:"state"`
	StateLabel string             `json:"state_label"`
	Clock      *web.CaseClockView `json:"clock,omitempty"`
	Latest     *web.CaseEventView `json:"latest,omitempty"`
	UpdatedAt  string             `json:"updated_at"`
}

// handleCaseList lists the citizen's cases, newest first.
func handleCaseList(cs *cases.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		limit, err := web.QueryInt(c, "limit")
		if err != nil {
			return err
		}
		list, next, err := cs.Mine(c.UserContext(), person(c), c.Query("cursor"), limit)
		if err != nil {
			return err
		}
		items := make([]caseSummary, len(list))
		for i, k := range list {
			v := caseView(cs, k)
			items[i] = caseSummary{ID: v.ID, Number: v.Number, MatterName: v.MatterName, State: v.State, StateLabel: v.StateLabel,
				Clock: v.Clock, UpdatedAt: inChina(k.UpdatedAt).Format("2006-01-02T15:04:05-07:00")}
			if n := len(v.Timeline); n > 0 {
				items[i].Latest = &v.Timeline[n-1]
			}
		}
		return c.JSON(fiber.Map{"items": items, "next": next})
	}
}

// handleCaseGet returns one of the citizen's cases with its timeline.
func handleCaseGet(cs *cases.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		k, err := cs.Case(c.UserContext(), person(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(caseView(cs, k))
	}
}

type caseFormRequest struct {
	Rev      int              `json:"rev"`
	Summary  string           `json:"summary"`
	Delivery catalog.Delivery `json:"delivery"`
}

// handleCaseForm saves the draft's form; rev guards against overwriting
// an edit made on another device.
func handleCaseForm(cs *cases.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req caseFormRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		k, err := cs.SaveForm(c.UserContext(), person(c), c.Params("id"), req.Rev, cases.Form{Summary: req.Summary, Delivery: req.Delivery})
		if err != nil {
			return err
		}
		return c.JSON(caseView(cs, k))
	}
}

// materialParam reads the material index from the path.
func materialParam(c *fiber.Ctx) (int, error) {
	n, err := strconv.Atoi(c.Params("n"))
	if err != nil || n < 0 || n > 1000 {
		return 0, apperr.Fields(apperr.FieldError{Field: "material", Message: "没有这项材料"})
	}
	return n, nil
}

// UploadBody returns the uploaded file of a request: the "file" part of a
// multipart form (wx.uploadFile sends that) or the raw body.
func UploadBody(c *fiber.Ctx) (io.Reader, func(), error) {
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	if strings.HasPrefix(ct, fiber.MIMEMultipartForm) {
		fh, err := c.FormFile("file")
		if err != nil {
			return nil, nil, apperr.Fields(apperr.FieldError{Field: "file", Message: "请选择要上传的文件"})
		}
		f, err := fh.Open()
		if err != nil {
			return nil, nil, apperr.Wrap(apperr.Invalid, "上传的文件无法读取，请重新上传", err)
		}
		return f, func() { _ = f.Close() }, nil
	}
	return bytes.NewReader(c.Body()), func() {}, nil
}

// handleCaseUpload stores a file for one material.
func handleCaseUpload(cs *cases.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		n, err := materialParam(c)
		if err != nil {
			return err
		}
		r, done, err := UploadBody(c)
		if err != nil {
			return err
		}
		defer done()
		k, err := cs.Upload(c.UserContext(), person(c), c.Params("id"), n, r)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(caseView(cs, k))
	}
}

type reuseRequest struct {
	From string `json:"from"`
}

// handleCaseReuse attaches a file given for an earlier case.
func handleCaseReuse(cs *cases.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		n, err := materialParam(c)
		if err != nil {
			return err
		}
		var req reuseRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		k, err := cs.ReuseMaterial(c.UserContext(), person(c), c.Params("id"), n, req.From)
		if err != nil {
			return err
		}
		return c.JSON(caseView(cs, k))
	}
}

// handleCaseReusable lists earlier files for each material.
func handleCaseReusable(cs *cases.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		m, err := cs.Reusable(c.UserContext(), person(c), c.Params("id"))
		if err != nil {
			return err
		}
		type item struct {
			Material int           `json:"material"`
			Options  []cases.Reuse `json:"options"`
		}
		items := []item{}
		for i := 0; i <= 1000 && len(items) < len(m); i++ {
			if opts, ok := m[i]; ok {
				items = append(items, item{Material: i, Options: opts})
			}
		}
		return c.JSON(fiber.Map{"items": items})
	}
}

// handleCaseMaterialRemove clears a material of a draft.
func handleCaseMaterialRemove(cs *cases.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		n, err := materialParam(c)
		if err != nil {
			return err
		}
		k, err := cs.RemoveMaterial(c.UserContext(), person(c), c.Params("id"), n)
		if err != nil {
			return err
		}
		return c.JSON(caseView(cs, k))
	}
}

// handleCaseFile sends the owner a material's file.
func handleCaseFile(cs *cases.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		n, err := materialParam(c)
		if err != nil {
			return err
		}
		rc, f, err := cs.OpenMaterial(c.UserContext(), person(c), c.Params("id"), n)
		if err != nil {
			return err
		}
		return web.SendFile(c, rc, f)
	}
}

// handleCaseSubmit submits the draft; the pre-check lists every missing
// material at once.
func handleCaseSubmit(cs *cases.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		k, err := cs.Submit(c.UserContext(), person(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(caseView(cs, k))
	}
}

// handleCaseWithdraw withdraws a case not yet accepted.
func handleCaseWithdraw(cs *cases.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		k, err := cs.Withdraw(c.UserContext(), person(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(caseView(cs, k))
	}
}

// handleCaseLookup finds a case by number and query code, for anyone
// holding the acceptance notice; it shows the timeline, never the
// applicant or the materials.
func handleCaseLookup(cs *cases.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		k, err := cs.Lookup(c.UserContext(), c.Query("number"), c.Query("code"))
		if err != nil {
			return err
		}
		v := caseView(cs, k)
		return c.JSON(fiber.Map{"number": v.Number, "center": v.Center, "sector": v.Sector, "matter": v.Matter,
			"matter_name": v.MatterName, "state": v.State, "state_label": v.StateLabel, "clock": v.Clock,
			"decision": v.Decision, "rejection": v.Rejection, "timeline": v.Timeline,
			"submitted_at": v.SubmittedAt, "accepted_at": v.AcceptedAt, "closed_at": v.ClosedAt})
	}
}
