package kiosk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/assets"
	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/queue"
)

// The lobby calling screen (叫号大屏): a TV page per center, its board as
// JSON, and a stream of board changes as Server-Sent Events.
const (
	// displayRecent is how many calls the screen shows: the latest one
	// large and the ones before it in a list.
	displayRecent = 9
	// displayPollEvery is how often a stream reads the board. Polling the
	// store, not a change stream, works on SQLite and on any MongoDB, and
	// behind a load balancer every server sees every clerk's calls.
	displayPollEvery = time.Second
	// displayPollTimeout bounds one read of the board.
	displayPollTimeout = 3 * time.Second
	// displayHeartbeat is the longest a stream stays silent: proxies and
	// load balancers close connections that send nothing for a while, and
	// a write is also how a stream finds out that its screen went away.
	displayHeartbeat = 15 * time.Second
	// displayWriteTimeout is how long one event may take to reach a
	// screen before the stream is given up.
	displayWriteTimeout = 10 * time.Second
	// maxDisplayStreams caps the open streams of one server: each one
	// reads the board every second.
	maxDisplayStreams = 100
	// displayRetryMillis is how soon a screen reconnects after a stream ends.
	displayRetryMillis = 2000
)

// cst is the centers' time zone, in which the board shows call times.
var cst = time.FixedZone("CST", 8*3600)

// boardView is the public board: ticket numbers, window names and counts,
// never a ticket's ID or holder.
type boardView struct {
	Day     string              `json:"day"`
	Calls   []boardCallView     `json:"calls"`
	Waiting []sectorWaitingView `json:"waiting"`
}

type boardCallView struct {
	Number   string    `json:"number"`
	Window   string    `json:"window"`
	Status   string    `json:"status"`
	CalledAt time.Time `json:"called_at"`
	// Calls counts the calls of the ticket: a recall is a new call to
	// announce.
	Calls int `json:"calls"`
}

type sectorWaitingView struct {
	Sector  string `json:"sector"`
	Name    string `json:"name"`
	Waiting int    `json:"waiting"`
}

func viewBoard(b queue.Board) boardView {
	v := boardView{Day: b.Day, Calls: make([]boardCallView, len(b.Calls)), Waiting: make([]sectorWaitingView, len(b.Waiting))}
	for i, c := range b.Calls {
		v.Calls[i] = boardCallView{Number: c.Number, Window: c.Window, Status: string(c.Status), CalledAt: c.CalledAt.In(cst), Calls: c.Calls}
	}
	for i, w := range b.Waiting {
		v.Waiting[i] = sectorWaitingView{Sector: w.Sector, Name: w.Name, Waiting: w.Waiting}
	}
	return v
}

// display serves the lobby calling screen.
type display struct {
	catalog *catalog.Service
	queue   *queue.Service
	log     *slog.Logger
	page    *template.Template
	// streams counts the open event streams of this server.
	streams atomic.Int64
}

func newDisplay(d Deps) (*display, error) {
	t, err := template.New("display.html").Funcs(template.FuncMap{
		"statusLabel": statusLabel,
		"long":        func(s string) bool { return utf8.RuneCountInString(s) > 6 },
	}).ParseFS(assets.FS, "templates/kiosk/display.html")
	if err != nil {
		return nil, fmt.Errorf("kiosk: parse display page: %w", err)
	}
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &display{catalog: d.Catalog, queue: d.Queue, log: log, page: t}, nil
}

// statusLabel is what the list of recent calls says of a call; display.js
// has the same words.
func statusLabel(c boardCallView) string {
	switch queue.Status(c.Status) {
	case queue.StatusCalled:
		if c.Calls > 1 {
			return "再次呼叫"
		}
		return "请前往"
	case queue.StatusDone:
		return "已办结"
	case queue.StatusMissed:
		return "已过号"
	case queue.StatusParked:
		return "暂缓办理"
	}
	return ""
}

// displayView is what the display page template gets: the board as it is
// when the page is served, so that the screen is whole before its script
// connects, and so that the script knows which calls were already made.
type displayView struct {
	Center catalog.Center
	Latest *boardCallView
	Recent []boardCallView
	Board  boardView
}

// handlePage serves the screen of a center. It has no idle reset: nobody
// touches a TV, and going back to a home page would blank it.
func (d *display) handlePage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ce, err := d.catalog.Center(c.UserContext(), c.Params("center"))
		if err != nil {
			return err
		}
		b, err := d.queue.Board(c.UserContext(), ce.Code, displayRecent)
		if err != nil {
			return err
		}
		v := displayView{Center: ce, Board: viewBoard(b)}
		if len(v.Board.Calls) > 0 {
			v.Latest, v.Recent = &v.Board.Calls[0], v.Board.Calls[1:]
		}
		var buf bytes.Buffer
		if err := d.page.Execute(&buf, v); err != nil {
			return fmt.Errorf("kiosk: render display: %w", err)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		c.Set(fiber.HeaderCacheControl, "no-store")
		// The policy of the kiosk pages: own script, styles and API only.
		c.Set(fiber.HeaderContentSecurityPolicy, kioskCSP)
		c.Set(fiber.HeaderReferrerPolicy, "same-origin")
		return c.Send(buf.Bytes())
	}
}

// handleBoard returns a center's board. It is public: the same numbers
// hang on the wall of the hall.
func (d *display) handleBoard() fiber.Handler {
	return func(c *fiber.Ctx) error {
		b, err := d.queue.Board(c.UserContext(), c.Params("center"), displayRecent)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(viewBoard(b))
	}
}

// handleEvents streams a center's board as Server-Sent Events: an event
// "board" at once and whenever the board changes, and a comment line at
// least every displayHeartbeat. The stream ends when the screen goes away
// (a write fails) or the server shuts down.
func (d *display) handleEvents() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if d.streams.Add(1) > maxDisplayStreams {
			d.streams.Add(-1)
			c.Set(fiber.HeaderRetryAfter, "30")
			return apperr.New(apperr.Unavailable, "叫号大屏连接数已满，请稍后再试")
		}
		started := false
		defer func() {
			if !started {
				d.streams.Add(-1)
			}
		}()
		center := c.Params("center")
		// The first read answers with the request's own context, so that an
		// unknown center is a 404 problem, not an empty stream.
		b, err := d.queue.Board(c.UserContext(), center, displayRecent)
		if err != nil {
			return err
		}
		first, err := json.Marshal(viewBoard(b))
		if err != nil {
			return fmt.Errorf("kiosk: encode board: %w", err)
		}
		c.Set(fiber.HeaderContentType, "text/event-stream; charset=utf-8")
		c.Set(fiber.HeaderCacheControl, "no-store")
		// Tell nginx-style proxies not to hold events back in a buffer.
		c.Set("X-Accel-Buffering", "no")
		if c.Method() == fiber.MethodHead {
			return nil
		}
		// The stream writer runs after this handler returns and must not
		// touch c: it gets the server's shutdown signal and the connection,
		// whose write deadline it moves on before every event (the server's
		// own write timeout is meant for whole responses, not streams).
		s := &displayStream{d: d, center: center, done: c.Context().Done(), conn: c.Context().Conn(), last: first}
		started = true
		c.Context().SetBodyStreamWriter(s.run)
		return nil
	}
}

// displayStream is one open event stream.
type displayStream struct {
	d      *display
	center string
	done   <-chan struct{}
	conn   net.Conn
	last   []byte // the board last sent
	failed bool   // the last read of the board failed
}

func (s *displayStream) run(w *bufio.Writer) {
	defer s.d.streams.Add(-1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	if !s.send(w, fmt.Sprintf("retry: %d\n\n", displayRetryMillis), s.last) {
		return
	}
	sent := time.Now()
	tick := time.NewTicker(displayPollEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if b, ok := s.poll(ctx); ok && !bytes.Equal(b, s.last) {
			if !s.send(w, "", b) {
				return
			}
			s.last, sent = b, time.Now()
		} else if time.Since(sent) >= displayHeartbeat {
			if !s.send(w, ": keep-alive\n\n", nil) {
				return
			}
			sent = time.Now()
		}
	}
}

// poll reads the board; a failure is logged once until a read works again,
// and the screen keeps what it shows.
func (s *displayStream) poll(ctx context.Context) ([]byte, bool) {
	pctx, cancel := context.WithTimeout(ctx, displayPollTimeout)
	defer cancel()
	b, err := s.d.queue.Board(pctx, s.center, displayRecent)
	if err == nil {
		var js []byte
		if js, err = json.Marshal(viewBoard(b)); err == nil {
			if s.failed {
				s.d.log.Info("display board readable again", "center", s.center)
				s.failed = false
			}
			return js, true
		}
	}
	if !s.failed && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
		s.d.log.Warn("display board read failed", "center", s.center, "err", err)
		s.failed = true
	}
	return nil, false
}

// send writes prefix and, when board is not nil, a board event, and
// flushes; it reports whether the screen is still there.
func (s *displayStream) send(w *bufio.Writer, prefix string, board []byte) bool {
	if s.conn != nil {
		// A deadline error only means the connection is already gone,
		// which the write below finds out.
		_ = s.conn.SetWriteDeadline(time.Now().Add(displayWriteTimeout))
	}
	w.WriteString(prefix)
	if board != nil {
		w.WriteString("event: board\ndata: ")
		w.Write(board)
		w.WriteString("\n\n")
	}
	return w.Flush() == nil
}
