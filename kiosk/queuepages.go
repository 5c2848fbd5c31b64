package kiosk

import (
	"regexp"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/queue"
)

// The kiosk's queue pages: 取号 (/kiosk/ticket), 预约签到 (/kiosk/check-in),
// 过号恢复 (/kiosk/reactivate) and 排队情况 (/kiosk/queue), with the setup page that keeps a kiosk's ID
// and secret in its browser (/kiosk/setup) and the QR code printed on a
// ticket (/kiosk/qr.png). The pages call the signed kiosk API from the
// browser (assets/static/kiosk-sign.js); the server only serves them.

// followPrefix starts the mini-program page that follows a ticket; the
// QR code route encodes nothing else, so that it cannot be used to print
// someone's link on a government ticket.
const followPrefix = "pages/ticket/index?id="

// ticketIDPattern is what a ticket ID in a follow path may look like.
var ticketIDPattern = regexp.MustCompile(`^[0-9A-Za-z]{1,64}$`)

const (
	// qrPixels is the side of the QR image: sharp on a 203 dpi ticket
	// printer at 3 cm and on the touch screen.
	qrPixels = 320
	// qrCacheControl lets the kiosk keep an image that never changes for
	// the same path, in its own cache only: the path names a ticket.
	qrCacheControl = "private, max-age=86400, immutable"
)

// sectorQueue is a sector and how many people wait in it.
type sectorQueue struct {
	Code    string
	Name    string
	Waiting int
}

// sectorLetter is the letter that starts the ticket numbers of a sector,
// with the sector's name, for the letter keys of 过号恢复.
type sectorLetter struct {
	Letter string
	Name   string
}

// sectorLetters returns the letters of the center's ticket numbers in
// alphabetical order, one key per letter. Should two sectors share a
// letter (past the 26th), the key names the one queue.Service.Reactivate
// looks the number up in: the last.
func sectorLetters(sectors []catalog.Sector) []sectorLetter {
	var out []sectorLetter
	for _, s := range sectors {
		l := queue.SectorLetter(s.Order)
		if i := slices.IndexFunc(out, func(x sectorLetter) bool { return x.Letter == l }); i >= 0 {
			out[i].Name = s.Name
			continue
		}
		out = append(out, sectorLetter{Letter: l, Name: s.Name})
	}
	slices.SortFunc(out, func(a, b sectorLetter) int { return strings.Compare(a.Letter, b.Letter) })
	return out
}

// printFlag reads ?print=1 / ?print=0, the address's say on printing.
func printFlag(c *fiber.Ctx) string {
	switch c.Query("print") {
	case "1", "true", "yes":
		return "1"
	case "0", "false", "no":
		return "0"
	}
	return ""
}

// queueView returns the page view of the kiosk's center with its sectors,
// their waiting counts and the public board.
func (p *pages) queueView(c *fiber.Ctx, title string) (view, error) {
	ce, sectors, err := p.center(c.UserContext())
	if err != nil {
		return view{}, err
	}
	b, err := p.d.Queue.Board(c.UserContext(), ce.Code, displayRecent)
	if err != nil {
		return view{}, err
	}
	v := view{Center: ce, Title: title, Sectors: sectors, Board: viewBoard(b)}
	waiting := map[string]int{}
	for _, w := range v.Board.Waiting {
		waiting[w.Sector] = w.Waiting
	}
	for _, s := range sectors {
		v.Queues = append(v.Queues, sectorQueue{Code: s.Code, Name: s.Name, Waiting: waiting[s.Code]})
	}
	return v, nil
}

// handleSetup serves the page where an administrator stores the kiosk's
// ID and secret in its browser, once, and tests them with a heartbeat.
func (p *pages) handleSetup() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ce, _, err := p.center(c.UserContext())
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return p.render(c, "setup", view{Center: ce, Title: "终端设置"})
	}
}

// handleTicketPage serves 取号: a button per sector with its waiting count;
// the ticket is the card holder's when a card is in the reader and a
// walk-in's otherwise. Above the sectors a citizen may declare a priority
// group (残疾人, 孕妇); the ticket then says it waits for staff to confirm
// it (queue.Service.SetPriority), since nothing at a kiosk can check it.
func (p *pages) handleTicketPage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := p.queueView(c, "取号")
		if err != nil {
			return err
		}
		v.Print = printFlag(c)
		c.Set(fiber.HeaderCacheControl, "no-store")
		return p.render(c, "ticket", v)
	}
}

// handleCheckInPage serves 预约签到 for the card holder's appointment today.
func (p *pages) handleCheckInPage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ce, _, err := p.center(c.UserContext())
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return p.render(c, "checkin", view{Center: ce, Title: "预约签到", Print: printFlag(c)})
	}
}

// handleReactivatePage serves 过号恢复: a citizen whose number was called
// while they were away puts it back in line, once, by keying it in on
// large letter and digit keys (a kiosk has no keyboard). A number taken
// with an ID card needs that card in the reader.
func (p *pages) handleReactivatePage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ce, sectors, err := p.center(c.UserContext())
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return p.render(c, "reactivate", view{Center: ce, Title: "过号恢复", Letters: sectorLetters(sectors), Print: printFlag(c)})
	}
}

// handleQueuePage serves 排队情况: the waiting counts of the sectors and the
// latest calls, kept current by polling the public board.
func (p *pages) handleQueuePage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := p.queueView(c, "排队情况")
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return p.render(c, "queue", v)
	}
}

// handleTicketQR draws the QR code printed on a ticket: the mini-program
// page that follows it (?path=pages/ticket/index?id=...), as a PNG. Any
// other path is refused.
func handleTicketQR() fiber.Handler {
	return func(c *fiber.Ctx) error {
		path := c.Query("path")
		id, ok := strings.CutPrefix(path, followPrefix)
		if !ok || !ticketIDPattern.MatchString(id) {
			return apperr.Fields(apperr.FieldError{Field: "path", Message: "只能为排队号的小程序页面（" + followPrefix + "…）生成二维码"})
		}
		png, err := qrcode.Encode(path, qrcode.Medium, qrPixels)
		if err != nil {
			return apperr.Wrap(apperr.Internal, "二维码生成失败", err)
		}
		c.Set(fiber.HeaderContentType, "image/png")
		c.Set(fiber.HeaderCacheControl, qrCacheControl)
		return c.Send(png)
	}
}
