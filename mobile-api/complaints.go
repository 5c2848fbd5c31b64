package mobileapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/complaint"
	"github.com/banhao/banhao/internal/web"
)

// complaintPerson is the mini-program citizen as complaints know them.
func complaintPerson(c *fiber.Ctx) complaint.Person {
	p := person(c)
	return complaint.Person{Holder: p.Holder, Citizen: p.Citizen}
}

type complaintRequest struct {
	Center string `json:"center"`
	Case   string `json:"case"`
	Matter string `json:"matter"`
	Sector string `json:"sector"`
	Text   string `json:"text"`
}

// handleComplaintFile files a complaint, optionally about a case.
func handleComplaintFile(cs *complaint.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req complaintRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		k, err := cs.File(c.UserContext(), complaintPerson(c), complaint.SourceMiniProgram, complaint.FileRequest{
			Center: req.Center, Case: req.Case, Matter: req.Matter, Sector: req.Sector, Text: req.Text})
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(web.NewComplaintView(cs, k))
	}
}

// handleComplaintList lists the citizen's complaints, newest first.
func handleComplaintList(cs *complaint.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		list, err := cs.Mine(c.UserContext(), complaintPerson(c))
		if err != nil {
			return err
		}
		items := make([]web.ComplaintView, len(list))
		for i, k := range list {
			items[i] = web.NewComplaintView(cs, k)
		}
		return c.JSON(fiber.Map{"items": items, "next": ""})
	}
}

// handleComplaintGet returns one of the citizen's complaints.
func handleComplaintGet(cs *complaint.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		k, err := cs.Get(c.UserContext(), complaintPerson(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(web.NewComplaintView(cs, k))
	}
}

// handleComplaintConfirm closes an answered complaint at the citizen's word.
func handleComplaintConfirm(cs *complaint.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		k, err := cs.Confirm(c.UserContext(), complaintPerson(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(web.NewComplaintView(cs, k))
	}
}
