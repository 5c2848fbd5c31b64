// Command banhao is the server of a government service center: the public
// catalog API, the mini-program and kiosk APIs, the kiosk pages and the
// staff console, on an embedded SQLite store or on MongoDB.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/banhao/banhao/assets"
	"github.com/banhao/banhao/console"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/calendar"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/certificate"
	"github.com/banhao/banhao/internal/complaint"
	"github.com/banhao/banhao/internal/consult"
	"github.com/banhao/banhao/internal/deadline"
	"github.com/banhao/banhao/internal/delivery"
	"github.com/banhao/banhao/internal/idempotency"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/mongo"
	"github.com/banhao/banhao/internal/notify"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/report"
	"github.com/banhao/banhao/internal/review"
	"github.com/banhao/banhao/internal/seal"
	"github.com/banhao/banhao/internal/sqlite"
	"github.com/banhao/banhao/internal/web"
	"github.com/banhao/banhao/internal/wechat"
	"github.com/banhao/banhao/kiosk"
	mobileapi "github.com/banhao/banhao/mobile-api"
	"github.com/banhao/banhao/printing"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "banhao:", err)
		os.Exit(1)
	}
}

// stores are the storage back ends behind the business areas, whichever
// implementation the configuration chose.
type stores struct {
	catalog  catalog.Store
	staff    identity.StaffStore
	sessions identity.SessionStore
	citizens identity.CitizenStore
	kiosks   identity.KioskStore
	queue    queue.Store
	appts    queue.AppointmentStore
	outbox   notify.Store
	audit    audit.Store
	calendar calendar.Store
	cases    cases.Store
	files    cases.FileStore
	ecerts   certificate.Store
	parcels  delivery.Store
	prints   printing.PrintStore
	reviews  review.Store
	// keys remembers Idempotency-Keys and their responses.
	keys idempotency.Store
	// consult and complaints keep 网上咨询 threads (with FAQs) and 投诉.
	consult    consult.Store
	complaints complaint.Store
	// reports reads the events the supervisors' reports count and
	// keeps the spot-check marks.
	reports interface {
		report.Source
		report.MarkStore
	}
	ping  func(context.Context) error
	close func() error
	desc  string
	// down recognises the store's own failures, answered 503 with Retry-After.
	down func(error) bool
}

func openStores(ctx context.Context, cfg config) (*stores, error) {
	if cfg.MongoURI != "" {
		db, err := mongo.OpenWith(ctx, mongo.Options{URI: cfg.MongoURI, Database: cfg.MongoDatabase, StatusReads: cfg.MongoStatusReads})
		if err != nil {
			return nil, err
		}
		ids := mongo.NewIdentityStore(db)
		return &stores{
			catalog:    mongo.NewCatalogStore(db),
			staff:      ids,
			sessions:   ids,
			citizens:   mongo.NewCitizenStore(db),
			kiosks:     mongo.NewKioskStore(db),
			queue:      mongo.NewQueueStore(db),
			appts:      mongo.NewAppointmentStore(db),
			outbox:     mongo.NewOutboxStore(db),
			audit:      mongo.NewAuditStore(db),
			calendar:   mongo.NewCalendarStore(db),
			cases:      mongo.NewCaseStore(db),
			files:      mongo.NewFileStore(db),
			ecerts:     mongo.NewCertificateStore(db),
			parcels:    mongo.NewParcelStore(db),
			prints:     mongo.NewPrintStore(db),
			reviews:    mongo.NewReviewStore(db),
			keys:       mongo.NewIdempotencyStore(db),
			consult:    mongo.NewConsultStore(db),
			complaints: mongo.NewComplaintStore(db),
			reports:    mongo.NewReportStore(db),
			ping:       db.Ping,
			close: func() error {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				return db.Close(ctx)
			},
			desc: "MongoDB database " + cfg.MongoDatabase,
			down: mongo.IsUnavailable,
		}, nil
	}
	path := filepath.Join(cfg.DataDir, "banhao.db")
	db, err := sqlite.Open(ctx, sqlite.Config{Path: path, Synchronous: cfg.Synchronous})
	if err != nil {
		return nil, err
	}
	ids := sqlite.NewIdentityStore(db)
	files := sqlite.NewFileStore(db)
	// Uploads cut off by a crash leave temporary files; nothing refers to them.
	if _, err := files.Sweep(ctx, time.Hour); err != nil {
		db.Close()
		return nil, fmt.Errorf("sweep unfinished uploads: %w", err)
	}
	return &stores{
		catalog:    sqlite.NewCatalogStore(db),
		staff:      ids,
		sessions:   ids,
		citizens:   sqlite.NewCitizenStore(db),
		kiosks:     sqlite.NewKioskStore(db),
		queue:      sqlite.NewQueueStore(db),
		appts:      sqlite.NewAppointmentStore(db),
		outbox:     sqlite.NewOutboxStore(db),
		audit:      sqlite.NewAuditStore(db),
		calendar:   sqlite.NewCalendarStore(db),
		cases:      sqlite.NewCaseStore(db),
		files:      files,
		ecerts:     sqlite.NewCertificateStore(db),
		parcels:    sqlite.NewParcelStore(db),
		prints:     sqlite.NewPrintStore(db),
		reviews:    sqlite.NewReviewStore(db),
		keys:       sqlite.NewIdempotencyStore(db),
		consult:    sqlite.NewConsultStore(db),
		complaints: sqlite.NewComplaintStore(db),
		reports:    sqlite.NewReportStore(db),
		ping:       db.Ping,
		close:      db.Close,
		desc:       "SQLite " + path,
		down:       sqlite.IsUnavailable,
	}, nil
}

func newLogger(cfg config, stdout io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // validated in parseConfig
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.LogFormat
	if format == "auto" {
		format = "json"
		if f, ok := stdout.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(stdout, opts))
	}
	return slog.New(slog.NewJSONHandler(stdout, opts))
}

// run starts the server and blocks until ctx ends, then shuts down in
// order: stop accepting, finish requests, stop background work, close the
// store.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "ecert" {
		return runECert(ctx, args[1:], getenv, stdout)
	}
	if len(args) > 0 && args[0] == "admin" {
		return runAdmin(ctx, args[1:], getenv, stdout)
	}
	if len(args) > 0 && args[0] == "backup" {
		return runBackup(ctx, args[1:], getenv, stdout)
	}
	if len(args) > 0 && args[0] == "restore" {
		return runRestore(ctx, args[1:], getenv, stdout)
	}
	cfg, err := parseConfig(args, getenv, stdout)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := newLogger(cfg, stdout)

	if cfg.MongoURI == "" {
		// One server per embedded store; a restore waits for it to stop.
		unlock, err := lockDataDir(cfg.DataDir)
		if err != nil {
			return err
		}
		defer unlock()
	}
	st, err := openStores(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer func() {
		if err := st.close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()

	keys, err := openKeys(cfg, stdout)
	if err != nil {
		return err
	}
	if cfg.SigningKeys, err = signingSpec(cfg, stdout); err != nil {
		return err
	}
	svc, err := newServices(cfg, st, keys, log)
	if err != nil {
		return err
	}
	cat := svc.catalog
	if cfg.Seed {
		b, err := assets.FS.ReadFile("catalog/demo.json")
		if err != nil {
			return fmt.Errorf("read demo catalog: %w", err)
		}
		seed, err := catalog.ParseSeedBytes(b)
		if err != nil {
			return err
		}
		loaded, err := cat.LoadSeedIfEmpty(ctx, seed)
		if err != nil {
			return fmt.Errorf("load demo catalog: %w", err)
		}
		if loaded {
			log.Info("demo catalog loaded", "centers", len(seed.Centers), "matters", len(seed.Matters))
		}
		if err := loadDemoCertificates(ctx, svc.ecerts); err != nil {
			return err
		}
	}
	if err := cat.Refresh(ctx); err != nil {
		return fmt.Errorf("build search index: %w", err)
	}
	if err := svc.calendar.Refresh(ctx); err != nil {
		return fmt.Errorf("load working-day calendars: %w", err)
	}
	reannounce(ctx, svc, log)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), newOutboxCollector(st.outbox))
	if cfg.Dev {
		fmt.Fprintln(stdout, "DEVELOPMENT MODE: mini-program logins with code dev:<openid> are accepted without WeChat; cookies are not Secure. Never run a public server like this.")
		if err := createDemoAdmin(ctx, svc, stdout); err != nil {
			return err
		}
	}
	app, err := newApp(cfg, log, reg, st, svc)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	base := baseURL(ln.Addr())
	fmt.Fprintf(stdout, "banhao listening on %s (store: %s)\n", base, st.desc)
	fmt.Fprintf(stdout, "  kiosk page:   %s/kiosk/\n", base)
	fmt.Fprintf(stdout, "  staff console: %s/console/\n", base)
	fmt.Fprintf(stdout, "  courier page: %s/courier/\n", base)
	fmt.Fprintf(stdout, "  API document: %s/openapi.json\n", base)
	fmt.Fprintf(stdout, "  health check: %s/healthz\n", base)
	fmt.Fprintf(stdout, "  certificate check: %s/verify (QR codes link to %s/verify)\n", base, strings.TrimRight(cfg.PublicURL, "/"))

	bg, stopBG := context.WithCancel(context.Background())
	refreshed := make(chan struct{})
	go func() {
		defer close(refreshed)
		refreshLoop(bg, cfg.CatalogRefresh, log, "catalog search refresh", cat.Refresh)
	}()
	calendars := make(chan struct{})
	go func() {
		defer close(calendars)
		refreshLoop(bg, cfg.CatalogRefresh, log, "calendar refresh", func(ctx context.Context) error {
			if err := svc.calendar.Refresh(ctx); err != nil {
				return err
			}
			// An edit made through another server may have closed a day.
			n, err := svc.queue.CancelClosedBookings(ctx)
			if n > 0 {
				log.Info("appointments on closed days cancelled", "count", n)
			}
			return err
		})
	}()
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		refreshLoop(bg, time.Minute, log, "kiosk nonce sweep", func(ctx context.Context) error {
			_, err := svc.kiosks.SweepNonces(ctx)
			return err
		})
	}()
	issued := make(chan struct{})
	go func() {
		defer close(issued)
		refreshLoop(bg, time.Minute, log, "certificate retry", func(ctx context.Context) error {
			n, err := svc.cases.IssuePending(ctx)
			if n > 0 {
				log.Info("certificates issued on retry", "count", n)
			}
			return err
		})
	}()
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		refreshLoop(bg, time.Minute, log, "parcel booking retry", func(ctx context.Context) error {
			n, err := svc.delivery.DispatchPending(ctx)
			if n > 0 {
				log.Info("parcels booked on retry", "count", n)
			}
			return err
		})
	}()
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		if !svc.sending {
			log.Warn("WeChat is not configured: notifications are kept in the outbox, not sent")
			return
		}
		if err := svc.outbox.Run(bg); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("outbox sender stopped", "err", err)
		}
	}()
	noShows := make(chan struct{})
	go func() {
		defer close(noShows)
		refreshLoop(bg, time.Minute, log, "appointment no-show sweep", func(ctx context.Context) error {
			n, err := svc.queue.SweepNoShows(ctx)
			if n > 0 {
				log.Info("appointments marked no-show", "count", n)
			}
			return err
		})
	}()

	rectifications := make(chan struct{})
	go func() {
		defer close(rectifications)
		refreshLoop(bg, time.Minute, log, "rectification escalation sweep", func(ctx context.Context) error {
			n, err := svc.review.EscalateOverdue(ctx)
			if n > 0 {
				log.Info("overdue rectifications escalated", "count", n)
			}
			return err
		})
	}()

	quiet := make(chan struct{})
	go func() {
		defer close(quiet)
		refreshLoop(bg, time.Minute, log, "consultation quiet-period sweep", func(ctx context.Context) error {
			n, err := svc.consult.SweepQuiet(ctx)
			if n > 0 {
				log.Info("quiet consultations closed", "count", n)
			}
			return err
		})
	}()

	keySweep := make(chan struct{})
	go func() {
		defer close(keySweep)
		refreshLoop(bg, 10*time.Minute, log, "idempotency key sweep", func(ctx context.Context) error {
			n, err := svc.keys.Sweep(ctx)
			if n > 0 {
				log.Info("expired idempotency keys deleted", "count", n)
			}
			return err
		})
	}()

	if cfg.PprofAddr != "" {
		go servePprof(bg, cfg.PprofAddr, log)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- app.Listener(ln) }()

	select {
	case err = <-serveErr:
		err = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		log.Info("shutting down")
		if serr := app.ShutdownWithTimeout(cfg.ShutdownTimeout); serr != nil {
			err = fmt.Errorf("shutdown: %w", serr)
		}
	}
	stopBG()
	<-refreshed
	<-calendars
	<-swept
	<-noShows
	<-rectifications
	<-quiet
	<-keySweep
	<-issued
	<-dispatched
	<-sent
	return err
}

// reannounce queues the notifications a crash may have lost: a ticket
// call, a booking or a case's status change is stored before its
// messages are queued, in two writes. It runs before the server answers
// anyone, so that no later change hides a lost message; the outbox keeps
// one message per ID, so messages already queued are not queued twice.
// A failure is logged: it does not keep the server from starting.
func reannounce(ctx context.Context, svc *services, log *slog.Logger) {
	calls := 0
	centers, err := svc.catalog.Centers(ctx)
	if err != nil {
		log.Error("recover lost notifications: list centers", "err", err)
	}
	for _, c := range centers {
		n, err := svc.queue.Reannounce(ctx, c.Code)
		if err != nil {
			log.Error("recover lost notifications of calls", "center", c.Code, "err", err)
		}
		calls += n
	}
	reminders, err := svc.queue.RemindAgain(ctx)
	if err != nil {
		log.Error("recover lost appointment reminders", "err", err)
	}
	changes, err := svc.cases.Reannounce(ctx)
	if err != nil {
		log.Error("recover lost notifications of cases", "err", err)
	}
	log.Debug("notifications of called tickets, appointments and open cases queued again",
		"calls", calls, "reminders", reminders, "cases", changes)
}

// services are the business services, built once on the chosen stores.
type services struct {
	audit    *audit.Log
	catalog  *catalog.Service
	calendar *calendar.Service
	identity *identity.Service
	citizens *identity.Citizens
	kiosks   *identity.Kiosks
	queue    *queue.Service
	outbox   *notify.Outbox
	cases    *cases.Service
	ecerts   *certificate.Library
	// delivery runs 证照免费寄送 (parcels, couriers, the courier company).
	delivery *delivery.Service
	// printing renders, prints and verifies the certificates banhao issues.
	printing *printing.Service
	// review runs 好差评 and the rectification of bad reviews.
	review *review.Service
	// keys makes creating POSTs retryable (Idempotency-Key).
	keys *idempotency.Service
	// consult runs 网上咨询 (and its FAQs); complaints runs 投诉.
	consult    *consult.Service
	complaints *complaint.Service
	// reports builds 日通报、周抽查、月汇总.
	reports *report.Service
	// sending says whether the outbox has a way to send (WeChat configured).
	sending bool
}

// clock is the server's time: the real one, or in development mode one
// that starts at BANHAO_DEV_NOW and runs on from there.
func clock(cfg config) func() time.Time {
	if cfg.DevNow.IsZero() {
		return time.Now
	}
	start := time.Now()
	return func() time.Time { return cfg.DevNow.Add(time.Since(start)) }
}

// hours adapts the working-day calendars to the queue's needs. Each call
// reads the calendars in force (one atomic load), so an administrator's
// edit applies to the next ticket.
type hours struct{ cals *calendar.Service }

func (h hours) OpenAt(center string, t time.Time) bool { return h.cals.Book().OpenAt(center, t) }
func (h hours) NextOpening(center string, t time.Time) time.Time {
	return h.cals.Book().NextOpening(center, t)
}

func (h hours) OpenSpans(center string, day time.Time) []queue.Span {
	var out []queue.Span
	for _, s := range h.cals.Book().OpenSpans(center, calendar.DayOf(day)) {
		out = append(out, queue.Span{From: s.From, To: s.To})
	}
	return out
}

func (h hours) ClosedReason(center string, day time.Time) string {
	if name, ok := h.cals.Book().HolidayName(calendar.DayOf(day)); ok {
		return name
	}
	return "休息日"
}

func newServices(cfg config, st *stores, keys *seal.Keyring, log *slog.Logger) (*services, error) {
	now := clock(cfg)
	al := audit.NewLog(st.audit, now)
	cals, err := newCalendars(st.calendar, al, log, now)
	if err != nil {
		return nil, err
	}
	wx, err := newWeChat(cfg)
	if err != nil {
		return nil, err
	}
	cat := catalog.NewService(st.catalog, al, now, log)
	var login identity.WeChat
	var sender notify.Sender
	if wx != nil {
		login = wx.Flat()
		sender = wechat.NewSubscriber(wx, cfg.WeChatTemplates)
	}
	outbox := notify.NewOutbox(st.outbox, recipients{st.citizens}, sender, log, now, notify.OutboxConfig{})
	ids := identity.NewService(st.staff, st.sessions, al, log, now, identity.DefaultConfig())
	cits := identity.NewCitizens(st.citizens, st.sessions, keys, login, al, log, now, identity.CitizensConfig{DevLogin: cfg.Dev})
	lib := certificate.NewLibrary(st.ecerts, keys, al, log, now, cals.Location(), cits)
	carrier, err := cfg.Express.carrier()
	if err != nil {
		return nil, err
	}
	// The fonts (30 MB) are parsed on the first print, once, for
	// certificates and labels alike.
	pdfs := &printing.Lazy{}
	parcels := delivery.NewService(st.parcels, st.cases, cat, st.staff, keys, al, log, now,
		delivery.Config{Carrier: carrier, Notifier: outbox, Location: cals.Location(), Labels: pdfs})
	signing, err := signingKeys(cfg)
	if err != nil {
		return nil, err
	}
	prints := printing.NewService(lib, signing, pdfs, st.prints, al, log, now, cals.Location(), cfg.PublicURL,
		printing.WithHandovers(handovers{st.cases}))
	events := reviewEvents{queue: st.queue, cases: st.cases, parcels: st.parcels, consult: st.consult, catalog: cat, loc: cals.Location(), now: now}
	reviews := review.NewService(st.reviews, events, al, log, now, review.Config{
		Calendar: func() deadline.Calendar { return cals.Book() }, RectifyDays: cfg.Cases.RectifyDays,
		Notifier: outbox, LastServed: events.LastServed,
	})
	consults, complaints := newConsultServices(cfg, st, keys, cat, wx, al, log, now, cals, outbox)
	return &services{
		consult:    consults,
		complaints: complaints,
		reports:    report.NewService(st.reports, cals.Location(), activeMatters(st.catalog)).WithMarks(st.reports, al, log, now),
		review:     reviews,
		keys:       idempotency.NewService(st.keys, log, now, idempotency.Config{}),
		cases: cases.NewService(st.cases, st.files, cat, al, log, now, cases.Config{
			Calendar: func() deadline.Calendar { return cals.Book() }, WarnAt: cfg.Cases.WarnAt, SupplyDays: cfg.Cases.SupplyDays,
			MaxFileSize: cfg.Cases.MaxFileSize, Certificates: lib, Authorizer: ids, Notifier: outbox, Issuer: lib,
			Dispatcher: parcels,
		}),
		ecerts:   lib,
		delivery: parcels,
		printing: prints,
		audit:    al,
		catalog:  cat,
		calendar: cals,
		queue: queue.NewService(st.queue, cat, al, log, now, queue.Config{
			Calendar: hours{cals}, Location: cals.Location(), Appointments: st.appts, Booking: cfg.Booking,
			MaxCalls: cfg.Queue.MaxCalls, StarveAfter: cfg.Queue.StarveAfter,
			Notifier: outbox,
		}),
		outbox:   outbox,
		sending:  sender != nil,
		identity: ids,
		citizens: cits,
		kiosks:   identity.NewKiosks(st.kiosks, st.sessions, keys, al, log, now),
	}, nil
}

// newCalendars returns the calendar service seeded with the yearly
// calendars shipped in assets/calendar, which the store takes for the
// years it has none of.
func newCalendars(store calendar.Store, al *audit.Log, log *slog.Logger, now func() time.Time) (*calendar.Service, error) {
	names, err := fs.Glob(assets.FS, "calendar/*.json")
	if err != nil {
		return nil, fmt.Errorf("list calendars: %w", err)
	}
	var seeds [][]byte
	for _, name := range names {
		b, err := assets.FS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read calendar: %w", err)
		}
		seeds = append(seeds, b)
	}
	cals, err := calendar.NewService(store, al, log, now, seeds...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", names, err)
	}
	return cals, nil
}

// openKeys returns the keyring that seals personal data: BANHAO_DATA_KEY,
// or for the embedded store a key file made in the data folder on first
// start (back it up with the database: without it the sealed data is lost).
func openKeys(cfg config, stdout io.Writer) (*seal.Keyring, error) {
	if cfg.DataKey != "" {
		k, err := seal.ParseKeyring(cfg.DataKey)
		if err != nil {
			return nil, fmt.Errorf("BANHAO_DATA_KEY: %w", err)
		}
		return k, nil
	}
	path := filepath.Join(cfg.DataDir, "banhao.key")
	k, created, err := seal.LoadOrCreateKeyFile(path)
	if err != nil {
		return nil, fmt.Errorf("personal data key: %w", err)
	}
	if created {
		fmt.Fprintf(stdout, "created the personal data key %s: back it up with the database, without it sealed data cannot be read\n", path)
	}
	return k, nil
}

func newApp(cfg config, log *slog.Logger, reg *prometheus.Registry, st *stores, svc *services) (*fiber.App, error) {
	cat := svc.catalog
	openapi, err := assets.FS.ReadFile("openapi.json")
	if err != nil {
		return nil, fmt.Errorf("read API document: %w", err)
	}
	app := web.NewApp(web.AppConfig{
		Log:            log,
		BodyLimit:      cfg.BodyLimit,
		UploadLimit:    int(cfg.Cases.MaxFileSize) + 64<<10, // room for the multipart envelope
		RequestTimeout: cfg.RequestTimeout,
		Metrics:        web.NewMetrics(reg),
		StoreDown:      st.down,
	})
	web.OpsRoutes(app, st.ping, reg, openapi)
	mobileapi.Routes(app, mobileapi.Deps{Catalog: cat, Citizens: svc.citizens, Queue: svc.queue, Cases: svc.cases, Staff: svc.identity,
		CourierLoginsPerMinute: cfg.LoginsPerMinute, LoginsPerMinute: cfg.MPLoginsPerMinute, WritesPerMinute: cfg.CitizenWritesPerMinute, CaseLookupsPerMinute: cfg.Cases.LookupsPerMinute, Delivery: svc.delivery,
		Review: svc.review, Consult: svc.consult, Complaints: svc.complaints, Keys: svc.keys})
	console.Routes(app, console.Deps{
		Catalog: cat, Identity: svc.identity, Audit: svc.audit, Kiosks: svc.kiosks, Citizens: svc.citizens, Queue: svc.queue, Calendars: svc.calendar,
		Cases: svc.cases, SecureCookies: cfg.SecureCookies, LoginsPerMinute: cfg.LoginsPerMinute, Delivery: svc.delivery,
		Certificates: svc.ecerts, Printing: svc.printing, WindowPrinters: windowPrinters(cfg),
		Review: svc.review, Consult: svc.consult, Complaints: svc.complaints,
		Reports: svc.reports, Keys: svc.keys, Outbox: svc.outbox,
	})
	if err := console.PageRoutes(app, console.PageDeps{Identity: svc.identity, Catalog: cat, Cases: svc.cases}); err != nil {
		return nil, err
	}
	if err := kiosk.Routes(app, kiosk.Deps{Catalog: cat, Kiosks: svc.kiosks, Queue: svc.queue, Cases: svc.cases, Center: cfg.KioskCenter, IdleReset: cfg.KioskIdleReset, Dev: cfg.Dev, Log: log,
		Printing: svc.printing, VerificationsPerMinute: cfg.VerificationsPerMinute, Review: svc.review,
		Consult: svc.consult, Complaints: svc.complaints, Keys: svc.keys}); err != nil {
		return nil, err
	}
	app.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/kiosk/", fiber.StatusFound) })
	return app, nil
}

// refreshLoop runs a periodic background job until ctx ends: the search
// index rebuild (so that catalog edits made through other servers of a
// MongoDB deployment reach search) and the sweep of old kiosk nonces.
func refreshLoop(ctx context.Context, every time.Duration, log *slog.Logger, what string, job func(context.Context) error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(ctx, every)
			if err := job(rctx); err != nil && !errors.Is(err, context.Canceled) {
				log.Warn(what+" failed", "err", err)
			}
			cancel()
		}
	}
}

// baseURL is the address to print for people: the listener's port on
// 127.0.0.1 when it listens on every interface.
func baseURL(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return "http://" + a.String()
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

// windowPrinters are the windows' IPP printers (addresses checked when
// the configuration was read).
func windowPrinters(cfg config) printing.Printers {
	out := printing.Printers{}
	for w, uri := range cfg.WindowPrinters {
		if p, err := printing.NewIPPPrinter(uri, nil); err == nil {
			out[w] = p
		}
	}
	return out
}

// activeMatters lists a center's active matters for the 零办理 list of
// the monthly report.
func activeMatters(store catalog.Store) func(ctx context.Context, center string) ([]report.MatterRef, error) {
	return func(ctx context.Context, center string) ([]report.MatterRef, error) {
		ms, err := store.ListMatters(ctx, catalog.MatterFilter{Center: center, Status: catalog.StatusActive})
		if err != nil {
			return nil, err
		}
		out := make([]report.MatterRef, len(ms))
		for i, m := range ms {
			out[i] = report.MatterRef{Code: m.Code, Name: m.Name, Sector: m.Sector}
		}
		return out, nil
	}
}
