package console

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/notify"
	"github.com/banhao/banhao/internal/web"
)

// deadLetterView is one failed outbox message as the console shows it:
// the recipient masked, never the message's content (which may name a
// person's case or ticket).
type deadLetterView struct {
	ID        string     `json:"id"`
	To        string     `json:"to"`
	Kind      string     `json:"kind"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error"`
	CreatedAt time.Time  `json:"created_at"`
	NotBefore *time.Time `json:"not_before,omitempty"`
}

// maxShownError is how much of a failure's reason the console shows.
const maxShownError = 200

func viewDeadLetter(m notify.Message) deadLetterView {
	v := deadLetterView{ID: m.ID, To: maskRecipient(m.To), Kind: string(m.Kind), Attempts: m.Attempts,
		LastError: clipText(m.LastError, maxShownError), CreatedAt: m.CreatedAt}
	if !m.NotBefore.IsZero() {
		t := m.NotBefore
		v.NotBefore = &t
	}
	return v
}

// maskRecipient keeps the kind of recipient ("citizen:", "id:") and the
// first four characters after it: enough to tell messages to one person
// apart, not to find the person.
func maskRecipient(to string) string {
	kind, rest, ok := strings.Cut(to, ":")
	if !ok {
		kind, rest = "", to
	} else {
		kind += ":"
	}
	r := []rune(rest)
	if len(r) > 4 {
		r = r[:4]
	}
	return kind + string(r) + "****"
}

// clipText shortens s to at most n characters.
func clipText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// handleOutboxFailed lists the outbox's dead letters (GET
// /api/v1/staff/outbox/failed?limit=), newest first.
func handleOutboxFailed(o *notify.Outbox) fiber.Handler {
	return func(c *fiber.Ctx) error {
		limit := c.QueryInt("limit", 100)
		if limit < 1 || limit > 500 {
			return apperr.Fields(apperr.FieldError{Field: "limit", Message: "条数应在 1 到 500 之间"})
		}
		msgs, err := o.Failed(c.UserContext(), limit)
		if err != nil {
			return err
		}
		items := make([]deadLetterView, len(msgs))
		for i, m := range msgs {
			items[i] = viewDeadLetter(m)
		}
		return c.JSON(fiber.Map{"items": items})
	}
}

type outboxRetryRequest struct {
	ID string `json:"id"`
}

// handleOutboxRetry puts one failed message back to be sent (POST
// /api/v1/staff/outbox/retry, {"id": …}), and audits who did it.
func handleOutboxRetry(o *notify.Outbox, al *audit.Log) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req outboxRetryRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		if req.ID == "" || len(req.ID) > 200 || !utf8.ValidString(req.ID) {
			return apperr.Fields(apperr.FieldError{Field: "id", Message: "通知编号无效"})
		}
		if err := o.Retry(c.UserContext(), req.ID); err != nil {
			return err
		}
		st := staffOf(c)
		if al != nil {
			r := audit.Record{Actor: "staff:" + st.ID, Center: st.Center, Action: "outbox.retry", Target: "message:" + req.ID, IP: c.IP()}
			if err := al.Record(context.WithoutCancel(c.UserContext()), r); err != nil {
				return err
			}
		}
		return c.JSON(fiber.Map{"id": req.ID, "status": string(notify.StatusPending)})
	}
}
