package console

import (
	"bytes"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/report"
	"github.com/banhao/banhao/internal/web"
)

// xlsxType is the media type of an Excel workbook.
const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// reportCenter is the center a report is about: the staff member's own;
// an administrator may name another with ?center=.
func reportCenter(c *fiber.Ctx) (string, error) {
	st := staffOf(c)
	center := st.Center
	if q := c.Query("center"); q != "" && st.HasRole(identity.RoleAdmin) {
		center = q
	}
	if center == "" {
		return "", apperr.Fields(apperr.FieldError{Field: "center", Message: "请指定服务中心"})
	}
	return center, nil
}

func handleReportDaily(rs *report.Service, excel bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		center, err := reportCenter(c)
		if err != nil {
			return err
		}
		d, err := rs.Daily(c.UserContext(), center, c.Query("date"))
		if err != nil {
			return err
		}
		if !excel {
			return c.JSON(d)
		}
		var buf bytes.Buffer
		if err := d.WriteExcel(&buf); err != nil {
			return err
		}
		return sendWorkbook(c, buf.Bytes(), "daily-"+d.Date+".xlsx")
	}
}

func handleReportMonthly(rs *report.Service, excel bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		center, err := reportCenter(c)
		if err != nil {
			return err
		}
		m, err := rs.Monthly(c.UserContext(), center, c.Query("month"))
		if err != nil {
			return err
		}
		if !excel {
			return c.JSON(m)
		}
		var buf bytes.Buffer
		if err := m.WriteExcel(&buf); err != nil {
			return err
		}
		return sendWorkbook(c, buf.Bytes(), "monthly-"+m.Month+".xlsx")
	}
}

func handleReportSpotCheck(rs *report.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		center, err := reportCenter(c)
		if err != nil {
			return err
		}
		sc, err := rs.SpotCheck(c.UserContext(), center, c.Query("week"))
		if err != nil {
			return err
		}
		return c.JSON(sc)
	}
}

// markRequest is a supervisor's verdict on one spot-check item.
type markRequest struct {
	Week    string `json:"week"`
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	Verdict string `json:"verdict"`
	Note    string `json:"note"`
}

func handleReportMark(rs *report.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		center, err := reportCenter(c)
		if err != nil {
			return err
		}
		var req markRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		m, err := rs.SaveMark(c.UserContext(), report.Mark{Center: center, Week: req.Week, Kind: req.Kind, ID: req.ID,
			Verdict: req.Verdict, Note: req.Note, By: staffOf(c).ID})
		if err != nil {
			return err
		}
		return c.JSON(m)
	}
}

func sendWorkbook(c *fiber.Ctx, b []byte, name string) error {
	c.Set(fiber.HeaderContentType, xlsxType)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(b)
}
