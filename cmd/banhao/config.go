package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/banhao/banhao/internal/notify"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/wechat"
	"github.com/banhao/banhao/printing"
)

// config is every setting of the server, from BANHAO_* environment
// variables, overridden by command-line flags. Secrets may also be given
// as a file path in BANHAO_<NAME>_FILE.
type config struct {
	Addr          string
	DataDir       string
	MongoURI      string
	MongoDatabase string
	// MongoStatusReads is the read preference of the lobby board's and
	// the ticket status's polls (mongo.Options.StatusReads).
	MongoStatusReads string
	DataKey          string
	WeChatAppID      string
	WeChatSecret     string
	// PprofAddr, if set, serves Go's profiler there (e.g. 127.0.0.1:6060).
	PprofAddr string
	// Queue and Booking are the lobby's rules: calls before a ticket is
	// missed, the anti-starvation cap, and the appointment rules.
	Queue   queueRules
	Booking queue.BookingConfig
	// Cases are the application rules: uploads, 容缺 supply time, the
	// deadline warning share, public lookups.
	Cases caseRules
	// Consult are the consultation and complaint limits (consult.go).
	Consult consultRules
	// WeChatTemplates are the subscribe-message templates per message kind.
	WeChatTemplates map[notify.Kind]wechat.Template
	SecureCookies   bool
	LoginsPerMinute int
	// MPLoginsPerMinute caps mini-program logins per address: generous,
	// since a lobby's phones share the center's Wi-Fi address.
	MPLoginsPerMinute int
	// CitizenWritesPerMinute caps each citizen's changes (POST, PUT,
	// DELETE) through the mini-program API.
	CitizenWritesPerMinute int
	Dev                    bool
	Seed                   bool
	Synchronous            string
	BodyLimit              int
	RequestTimeout         time.Duration
	ShutdownTimeout        time.Duration
	CatalogRefresh         time.Duration
	KioskCenter            string
	KioskIdleReset         time.Duration
	// DevNow, in development mode, starts the server's clock at a chosen
	// moment (then it runs on), to try the lobby outside opening hours.
	DevNow    time.Time
	LogLevel  string
	LogFormat string

	// SigningKeys signs the QR codes of e-certificates: "kid:base64seed,...",
	// the first key signing (BANHAO_SIGNING_KEYS). On the embedded store it
	// may be empty here; run then reads or makes the key file in the data
	// folder.
	SigningKeys string
	// PublicURL is where citizens reach this server; a certificate's QR
	// code links to its /verify page (BANHAO_PUBLIC_URL).
	PublicURL string
	// WindowPrinters are the windows' IPP printers by window name
	// (BANHAO_WINDOW_PRINTERS, JSON {"1号窗口": "ipp://host/ipp/print"}).
	WindowPrinters map[string]string
	// VerificationsPerMinute caps certificate verifications per client
	// address (BANHAO_VERIFICATIONS_PER_MINUTE).
	VerificationsPerMinute int

	// Express is the courier company that books parcels (BANHAO_EXPRESS_*).
	Express expressConfig
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var errs []error
	env := func(name, def string) string {
		if v := getenv("BANHAO_" + name); v != "" {
			return v
		}
		return def
	}
	secret := func(name string) string {
		if v := getenv("BANHAO_" + name); v != "" {
			return v
		}
		path := getenv("BANHAO_" + name + "_FILE")
		if path == "" {
			return ""
		}
		b, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("BANHAO_%s_FILE: %w", name, err))
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	envBool := func(name string, def bool) bool {
		v := env(name, strconv.FormatBool(def))
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("BANHAO_%s: %q is not true or false", name, v))
		}
		return b
	}
	envInt := func(name string, def int) int {
		v := env(name, strconv.Itoa(def))
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("BANHAO_%s: %q is not a whole number", name, v))
		}
		return n
	}
	envDur := func(name string, def time.Duration) time.Duration {
		v := env(name, def.String())
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("BANHAO_%s: %q is not a duration such as 10s", name, v))
		}
		return d
	}

	c := config{
		Addr:                   env("ADDR", ":8080"),
		DataDir:                env("DATA_DIR", "data"),
		MongoURI:               secret("MONGODB_URI"),
		MongoDatabase:          env("MONGODB_DATABASE", "banhao"),
		MongoStatusReads:       env("MONGODB_STATUS_READS", "primary"),
		Dev:                    envBool("DEV", false),
		DataKey:                secret("DATA_KEY"),
		SigningKeys:            secret("SIGNING_KEYS"),
		PublicURL:              env("PUBLIC_URL", "http://localhost:8080"),
		WeChatAppID:            env("WECHAT_APPID", ""),
		WeChatSecret:           secret("WECHAT_SECRET"),
		Seed:                   envBool("SEED", true),
		Synchronous:            env("SQLITE_SYNCHRONOUS", "FULL"),
		BodyLimit:              envInt("BODY_LIMIT", 1<<20),
		RequestTimeout:         envDur("REQUEST_TIMEOUT", 10*time.Second),
		ShutdownTimeout:        envDur("SHUTDOWN_TIMEOUT", 15*time.Second),
		CatalogRefresh:         envDur("CATALOG_REFRESH", 30*time.Second),
		KioskCenter:            env("KIOSK_CENTER", ""),
		KioskIdleReset:         envDur("KIOSK_IDLE_RESET", 90*time.Second),
		LoginsPerMinute:        envInt("LOGINS_PER_MINUTE", 10),
		MPLoginsPerMinute:      envInt("MP_LOGINS_PER_MINUTE", 600),
		CitizenWritesPerMinute: envInt("CITIZEN_WRITES_PER_MINUTE", 60),
		LogLevel:               env("LOG_LEVEL", "info"),
		LogFormat:              env("LOG_FORMAT", "auto"),
		PprofAddr:              env("PPROF_ADDR", ""),
	}

	fs := flag.NewFlagSet("banhao", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (BANHAO_ADDR)")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data folder of the embedded SQLite store (BANHAO_DATA_DIR)")
	fs.StringVar(&c.MongoDatabase, "mongodb-database", c.MongoDatabase, "MongoDB database name (BANHAO_MONGODB_DATABASE)")
	fs.BoolVar(&c.Dev, "dev", c.Dev, "development mode (BANHAO_DEV)")
	fs.BoolVar(&c.Seed, "seed", c.Seed, "load the demo catalog into an empty store (BANHAO_SEED)")
	fs.StringVar(&c.Synchronous, "sqlite-synchronous", c.Synchronous, "SQLite synchronous level: FULL or NORMAL (BANHAO_SQLITE_SYNCHRONOUS)")
	fs.IntVar(&c.BodyLimit, "body-limit", c.BodyLimit, "largest accepted request body in bytes (BANHAO_BODY_LIMIT)")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", c.RequestTimeout, "time limit of one request (BANHAO_REQUEST_TIMEOUT)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "time to finish requests at shutdown (BANHAO_SHUTDOWN_TIMEOUT)")
	fs.DurationVar(&c.CatalogRefresh, "catalog-refresh", c.CatalogRefresh, "how often search picks up catalog edits made by other servers (BANHAO_CATALOG_REFRESH)")
	fs.StringVar(&c.KioskCenter, "kiosk-center", c.KioskCenter, "center shown on the kiosk pages; default the first county center (BANHAO_KIOSK_CENTER)")
	fs.DurationVar(&c.KioskIdleReset, "kiosk-idle-reset", c.KioskIdleReset, "kiosk pages return home after this long without a touch; 0 never (BANHAO_KIOSK_IDLE_RESET)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (BANHAO_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "auto, json or text (BANHAO_LOG_FORMAT)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "address citizens reach this server at; certificate QR codes link to its /verify (BANHAO_PUBLIC_URL)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	// Cookies are Secure (HTTPS only) unless in development mode, where the
	// console is reached over plain HTTP on the developer's machine.
	c.SecureCookies = envBool("COOKIE_SECURE", !c.Dev)
	if v := getenv("BANHAO_DEV_NOW"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("BANHAO_DEV_NOW: %q is not an RFC 3339 time such as 2026-11-25T09:00:00+08:00", v))
		case !c.Dev:
			errs = append(errs, errors.New("BANHAO_DEV_NOW is allowed only with BANHAO_DEV=true"))
		default:
			c.DevNow = t
		}
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %v", fs.Args()))
	}

	switch strings.ToUpper(c.Synchronous) {
	case "FULL", "NORMAL", "EXTRA":
	default:
		errs = append(errs, fmt.Errorf("sqlite synchronous must be FULL, NORMAL or EXTRA, not %q", c.Synchronous))
	}
	if c.BodyLimit < 1024 || c.BodyLimit > 64<<20 {
		errs = append(errs, fmt.Errorf("body limit must be between 1 KiB and 64 MiB, not %d", c.BodyLimit))
	}
	for name, d := range map[string]time.Duration{"request timeout": c.RequestTimeout, "shutdown timeout": c.ShutdownTimeout, "catalog refresh": c.CatalogRefresh} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, not %s", name, d))
		}
	}
	if c.KioskIdleReset < 0 {
		errs = append(errs, fmt.Errorf("kiosk idle reset must not be negative, not %s", c.KioskIdleReset))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log level must be debug, info, warn or error, not %q", c.LogLevel))
	}
	switch c.LogFormat {
	case "auto", "json", "text":
	default:
		errs = append(errs, fmt.Errorf("log format must be auto, json or text, not %q", c.LogFormat))
	}
	if c.LoginsPerMinute < 1 || c.LoginsPerMinute > 1000 {
		errs = append(errs, fmt.Errorf("logins per minute must be between 1 and 1000, not %d", c.LoginsPerMinute))
	}
	if c.MPLoginsPerMinute < 1 || c.MPLoginsPerMinute > 1000000 {
		errs = append(errs, fmt.Errorf("mini-program logins per minute must be between 1 and 1000000, not %d", c.MPLoginsPerMinute))
	}
	if c.CitizenWritesPerMinute < 1 || c.CitizenWritesPerMinute > 1000000 {
		errs = append(errs, fmt.Errorf("citizen writes per minute must be between 1 and 1000000, not %d", c.CitizenWritesPerMinute))
	}
	if c.MongoURI != "" && c.DataKey == "" {
		errs = append(errs, errors.New("BANHAO_DATA_KEY (or BANHAO_DATA_KEY_FILE) is required with MongoDB: personal data is sealed with it, and several servers must share it"))
	}
	if c.SigningKeys != "" {
		if _, err := printing.ParseKeys(c.SigningKeys); err != nil {
			errs = append(errs, fmt.Errorf("BANHAO_SIGNING_KEYS: %w", err))
		}
	} else if c.MongoURI != "" {
		errs = append(errs, errors.New("BANHAO_SIGNING_KEYS (or BANHAO_SIGNING_KEYS_FILE) is required with MongoDB: certificates are signed with it, and several servers must share it"))
	}
	if err := checkPublicURL(c.PublicURL); err != nil {
		errs = append(errs, err)
	}
	c.VerificationsPerMinute = envInt("VERIFICATIONS_PER_MINUTE", 60)
	if c.VerificationsPerMinute < 1 || c.VerificationsPerMinute > 10000 {
		errs = append(errs, fmt.Errorf("BANHAO_VERIFICATIONS_PER_MINUTE must be between 1 and 10000, not %d", c.VerificationsPerMinute))
	}
	bk := queue.DefaultBookingConfig()
	c.Queue = queueRules{MaxCalls: envInt("MAX_CALLS", queue.MaxCalls), StarveAfter: envDur("STARVE_AFTER", 30*time.Minute)}
	c.Booking = queue.BookingConfig{
		SlotLength:    envDur("SLOT_LENGTH", bk.SlotLength),
		DaysAhead:     envInt("BOOKING_DAYS_AHEAD", bk.DaysAhead),
		CancelCutoff:  envDur("BOOKING_CANCEL_CUTOFF", bk.CancelCutoff),
		CheckInBefore: envDur("CHECKIN_BEFORE", bk.CheckInBefore),
		CheckInAfter:  envDur("CHECKIN_AFTER", bk.CheckInAfter),
		NoShowLimit:   envInt("NO_SHOW_LIMIT", bk.NoShowLimit),
		NoShowWindow:  envDur("NO_SHOW_WINDOW", bk.NoShowWindow),
		Suspension:    envDur("NO_SHOW_SUSPENSION", bk.Suspension),
		SlotCapacity:  envInt("SLOT_CAPACITY", 0),
		ServiceTime:   envDur("SERVICE_TIME", bk.ServiceTime),
	}
	for name, v := range map[string]int{"max calls": c.Queue.MaxCalls, "booking days ahead": c.Booking.DaysAhead, "no-show limit": c.Booking.NoShowLimit} {
		if v < 1 || v > 365 {
			errs = append(errs, fmt.Errorf("%s must be between 1 and 365, not %d", name, v))
		}
	}
	if c.Booking.SlotCapacity < 0 {
		errs = append(errs, fmt.Errorf("slot capacity must not be negative, not %d", c.Booking.SlotCapacity))
	}
	for name, d := range map[string]time.Duration{"starve after": c.Queue.StarveAfter, "slot length": c.Booking.SlotLength,
		"booking cancel cutoff": c.Booking.CancelCutoff, "check-in before": c.Booking.CheckInBefore, "check-in after": c.Booking.CheckInAfter,
		"no-show window": c.Booking.NoShowWindow, "no-show suspension": c.Booking.Suspension, "service time": c.Booking.ServiceTime} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, not %s", name, d))
		}
	}
	if c.Booking.SlotLength > 0 && (c.Booking.SlotLength < 5*time.Minute || time.Hour%c.Booking.SlotLength != 0 && c.Booking.SlotLength%time.Hour != 0) {
		errs = append(errs, fmt.Errorf("slot length must divide an hour or be whole hours, not %s", c.Booking.SlotLength))
	}
	c.Cases = caseRules{
		MaxFileSize:      int64(envInt("MAX_UPLOAD", 20<<20)),
		SupplyDays:       envInt("SUPPLY_DAYS", 10),
		LookupsPerMinute: envInt("CASE_LOOKUPS_PER_MINUTE", 30),
		WarnAt:           0.8,
	}
	if v := getenv("BANHAO_DEADLINE_WARN_AT"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f >= 1 {
			errs = append(errs, fmt.Errorf("BANHAO_DEADLINE_WARN_AT must be a share between 0 and 1 (e.g. 0.8), not %q", v))
		}
		c.Cases.WarnAt = f
	}
	if c.Cases.MaxFileSize < 1<<10 || c.Cases.MaxFileSize > 64<<20 {
		errs = append(errs, fmt.Errorf("BANHAO_MAX_UPLOAD must be between 1 KiB and 64 MiB, not %d", c.Cases.MaxFileSize))
	}
	c.Cases.RectifyDays = envInt("RECTIFY_DAYS", 5)
	if c.Cases.RectifyDays < 1 || c.Cases.RectifyDays > 60 {
		errs = append(errs, fmt.Errorf("BANHAO_RECTIFY_DAYS must be between 1 and 60 working days, not %d", c.Cases.RectifyDays))
	}
	if c.Cases.SupplyDays < 1 || c.Cases.SupplyDays > 60 {
		errs = append(errs, fmt.Errorf("BANHAO_SUPPLY_DAYS must be between 1 and 60 working days, not %d", c.Cases.SupplyDays))
	}
	if c.Cases.LookupsPerMinute < 1 || c.Cases.LookupsPerMinute > 10000 {
		errs = append(errs, fmt.Errorf("BANHAO_CASE_LOOKUPS_PER_MINUTE must be between 1 and 10000, not %d", c.Cases.LookupsPerMinute))
	}
	if v := getenv("BANHAO_WINDOW_PRINTERS"); v != "" {
		if err := json.Unmarshal([]byte(v), &c.WindowPrinters); err != nil {
			errs = append(errs, fmt.Errorf("BANHAO_WINDOW_PRINTERS must be a JSON object of window name to printer address: %w", err))
		}
		for w, uri := range c.WindowPrinters {
			if _, err := printing.NewIPPPrinter(uri, nil); err != nil {
				errs = append(errs, fmt.Errorf("BANHAO_WINDOW_PRINTERS[%q]: %w", w, err))
			}
		}
	}
	if r, err := parseConsultRules(getenv); err != nil {
		errs = append(errs, err)
	} else {
		c.Consult = r
	}
	if tpl, err := parseTemplates(getenv("BANHAO_WECHAT_TEMPLATES")); err != nil {
		errs = append(errs, err)
	} else {
		c.WeChatTemplates = tpl
	}
	if (c.WeChatAppID == "") != (c.WeChatSecret == "") {
		errs = append(errs, errors.New("set both BANHAO_WECHAT_APPID and BANHAO_WECHAT_SECRET, or neither"))
	}
	if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
		errs = append(errs, errors.New("MongoDB URI must start with mongodb:// or mongodb+srv://"))
	}
	switch c.MongoStatusReads {
	case "primary", "secondaryPreferred", "nearest":
	default:
		errs = append(errs, fmt.Errorf("BANHAO_MONGODB_STATUS_READS must be primary, secondaryPreferred or nearest, not %q", c.MongoStatusReads))
	}
	if e, err := parseExpress(getenv); err != nil {
		errs = append(errs, err)
	} else {
		c.Express = e
	}
	return c, errors.Join(errs...)
}

// checkPublicURL accepts an absolute http or https address without query
// or fragment, such as https://zwfw.example.gov.cn: the QR code of every
// certificate printed carries it, so a typo would be printed on paper.
func checkPublicURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(v, " \t\n") {
		return fmt.Errorf("BANHAO_PUBLIC_URL must be an http or https address such as https://zwfw.example.gov.cn, without query or fragment, not %q", v)
	}
	return nil
}

// caseRules are the application rules a deployment may tune.
type caseRules struct {
	// MaxFileSize caps one uploaded material (BANHAO_MAX_UPLOAD, bytes).
	MaxFileSize int64
	// SupplyDays are the working days to supply 容缺 materials (BANHAO_SUPPLY_DAYS).
	SupplyDays int
	// LookupsPerMinute caps public case lookups per address (BANHAO_CASE_LOOKUPS_PER_MINUTE).
	LookupsPerMinute int
	// WarnAt is the share of a time limit that turns a case yellow (BANHAO_DEADLINE_WARN_AT).
	WarnAt float64
	// RectifyDays are the working days a bad review's rectification task
	// has before it escalates (BANHAO_RECTIFY_DAYS).
	RectifyDays int
}

// queueRules are the calling rules a deployment may tune.
type queueRules struct {
	MaxCalls    int
	StarveAfter time.Duration
}
