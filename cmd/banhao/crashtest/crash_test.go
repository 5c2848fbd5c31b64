package crashtest

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, to read the data after the run
)

// Settings of the crash test. BANHAO_CRASH_SEED replays a run's kill
// moments (the seed is logged); BANHAO_CRASH_KILLS changes how many kills.
const (
	// devNow is the development clock's start: a Wednesday, 09:00 in the
	// centers' time zone, within opening hours (as the cmd/banhao tests).
	devNow = "2026-11-25T09:00:00+08:00"
	// defaultKills is how many times the server is killed.
	defaultKills = 6
	// loadFor is how long the load tool's mixed scenario runs, across
	// every kill.
	loadFor = 20 * time.Second
	// readyWithin is the bound on the time from a restart to
	// /readyz answering 200.
	readyWithin = 2 * time.Second
)

// TestCrashSafety is the crash test: the real server under the load
// tool's mixed scenario is killed with SIGKILL at random moments and
// restarted each time; then every write the server acknowledged must be
// in the database, and the database consistent: tickets numbered without
// gaps per sector and day, no slot booked over its places, every case's
// state reached by its history, and no notification lost from the
// outbox.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real server for about half a minute")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the server with")
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("BANHAO_CRASH_SEED"); v != "" {
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("BANHAO_CRASH_SEED: %v", err)
		}
	}
	kills := defaultKills
	if v := os.Getenv("BANHAO_CRASH_KILLS"); v != "" {
		if kills, err = strconv.Atoi(v); err != nil || kills < 1 {
			t.Fatalf("BANHAO_CRASH_KILLS: %q", v)
		}
	}
	t.Logf("seed %d (BANHAO_CRASH_SEED=%d replays the kill moments), %d kills", seed, seed, kills)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	bin := t.TempDir()
	build := exec.Command(goTool, "build", "-o", bin+string(os.PathSeparator),
		"github.com/banhao/banhao/cmd/banhao", "github.com/banhao/banhao/cmd/banhao-load")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	work := t.TempDir()
	h := &harness{t: t, bin: filepath.Join(bin, "banhao"), data: filepath.Join(work, "data"), logs: work, addr: freeAddr(t)}
	t.Cleanup(h.killNow)

	first, _ := h.start()
	password := regexp.MustCompile(`created administrator "admin" at \S+ with password (\S+)`).FindStringSubmatch(h.output(first))
	if password == nil {
		t.Fatalf("no demo administrator's password in the server's output:\n%s", h.output(first))
	}
	h.checkLock()
	t.Logf("first start ready; a second server on its data folder was refused (the folder's lock)")

	ackPath := filepath.Join(work, "acks.jsonl")
	tool := exec.Command(filepath.Join(bin, "banhao-load"), "-url", "http://"+h.addr, "-scenario", "mixed",
		"-duration", loadFor.String(), "-ack", ackPath)
	tool.Env = append(cleanEnv(), "BANHAO_LOAD_ADMIN_PASSWORD="+password[1])
	toolOut := &lines{started: make(chan struct{})}
	tool.Stdout, tool.Stderr = toolOut, toolOut
	if err := tool.Start(); err != nil {
		t.Fatal(err)
	}
	toolDone := make(chan error, 1)
	go func() { toolDone <- tool.Wait() }()
	t.Cleanup(func() { _ = tool.Process.Kill() })
	select {
	case <-toolOut.started:
	case err := <-toolDone:
		t.Fatalf("the load tool ended before its load: %v\n%s", err, toolOut)
	case <-time.After(2 * time.Minute):
		t.Fatalf("the load tool did not start its load:\n%s", toolOut)
	}

	// Kill at random moments spread over the load, one in each of as many
	// equal stretches as there are kills, each time at least a moment
	// after the server is ready again; restart at once.
	loadStart := time.Now()
	stretch := (loadFor - time.Second) / time.Duration(kills)
	var restarts []time.Duration
	for k := 1; k <= kills; k++ {
		at := loadStart.Add(time.Duration(k-1)*stretch + time.Duration(rng.Int64N(int64(stretch))))
		time.Sleep(max(time.Until(at), 100*time.Millisecond))
		served := time.Since(h.readyAt)
		h.kill()
		_, ready := h.start()
		restarts = append(restarts, ready)
		t.Logf("kill %d at %s of the load, after %s of serving; ready again in %s", k,
			time.Since(loadStart).Round(time.Millisecond), served.Round(time.Millisecond), ready.Round(time.Millisecond))
	}
	select {
	case err := <-toolDone:
		if err != nil {
			t.Fatalf("load tool: %v\n%s", err, toolOut)
		}
	case <-time.After(loadFor + 2*time.Minute):
		t.Fatalf("the load tool did not end:\n%s", toolOut)
	}
	t.Logf("load tool:\n%s", toolOut.summary())
	h.stop()

	acks := readAcks(t, ackPath)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(h.data, "banhao.db")+"?mode=ro&_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := loadState(t, db)
	v := &verdict{acked: map[string]int{}, found: map[string]int{}}
	checkTickets(v, st, acks)
	checkBookings(v, st, acks)
	checkCases(v, st, acks)
	checkOutbox(v, st)

	var kinds []string
	for k := range v.acked {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var sum strings.Builder
	total, found := 0, 0
	for _, k := range kinds {
		fmt.Fprintf(&sum, "  %-9s acknowledged %5d  found %5d  lost %d\n", k, v.acked[k], v.found[k], v.acked[k]-v.found[k])
		total += v.acked[k]
		found += v.found[k]
	}
	fmt.Fprintf(&sum, "  %-9s acknowledged %5d  found %5d  lost %d\n", "all", total, found, total-found)
	slices.Sort(restarts)
	t.Logf("%d kills; restart to ready: fastest %s, slowest %s; stored: %d tickets, %d appointments, %d cases, %d outbox messages (%d pending, %d sent)\n%s",
		kills, restarts[0].Round(time.Millisecond), restarts[len(restarts)-1].Round(time.Millisecond),
		len(st.tickets), len(st.appts), len(st.cases), len(st.outbox), st.outboxBy("pending"), st.outboxBy("sent"), sum.String())
	t.Logf("stored but never acknowledged (answers cut off by a kill, or after the tool's end): %d tickets, %d appointments, %d cases",
		len(st.tickets)-v.acked["ticket"], len(st.appts)-v.acked["booking"], len(st.cases)-v.acked["case start"])
	for _, p := range v.problems {
		t.Error(p)
	}
	if total == 0 || v.acked["ticket"] == 0 || v.acked["case submit"] == 0 || v.acked["booking"] == 0 || v.acked["call"] == 0 {
		t.Errorf("the load made too few writes to judge: %v", v.acked)
	}
	for i, d := range restarts {
		if d > readyWithin {
			t.Errorf("a restart took %s to be ready (restart %d of the slowest first), over %s", d, len(restarts)-i, readyWithin)
		}
	}
}

// harness runs the server binary: one process at a time, on one data
// folder and address, with the development clock running on across
// restarts.
type harness struct {
	t                     *testing.T
	bin, data, logs, addr string

	lives   int
	readyAt time.Time // when the running server became ready
	cmd     *exec.Cmd
	done    chan error
	started time.Time // when the first process started: the clock's origin
}

// env is the server's environment for a start now: the development clock
// resumes where the killed server's was, so that it never runs backwards.
func (h *harness) env() []string {
	base, _ := time.Parse(time.RFC3339, devNow)
	if h.started.IsZero() {
		h.started = time.Now()
	}
	return append(cleanEnv(),
		"BANHAO_DEV=true",
		"BANHAO_DEV_NOW="+base.Add(time.Since(h.started)).Format(time.RFC3339Nano),
		"BANHAO_DATA_DIR="+h.data,
		"BANHAO_ADDR="+h.addr,
		"BANHAO_LOGINS_PER_MINUTE=1000",
		"BANHAO_MP_LOGINS_PER_MINUTE=1000000",
		"BANHAO_LOG_FORMAT=json",
	)
}

// start starts the server and waits until /readyz answers 200. It
// returns the life's number and the time from the process start to ready.
func (h *harness) start() (int, time.Duration) {
	h.t.Helper()
	h.lives++
	out, err := os.Create(h.logPath(h.lives))
	if err != nil {
		h.t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(h.bin)
	cmd.Env = h.env()
	cmd.Stdout, cmd.Stderr = out, out
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	h.cmd, h.done = cmd, done
	hc := &http.Client{Timeout: 250 * time.Millisecond}
	for time.Since(t0) < 30*time.Second {
		select {
		case err := <-done:
			h.cmd = nil
			h.t.Fatalf("server life %d exited before ready: %v\n%s", h.lives, err, h.output(h.lives))
		default:
		}
		res, err := hc.Get("http://" + h.addr + "/readyz")
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				h.readyAt = time.Now()
				return h.lives, h.readyAt.Sub(t0)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("server life %d not ready after 30s:\n%s", h.lives, h.output(h.lives))
	return 0, 0
}

// kill kills the running server with SIGKILL and waits until it is gone.
func (h *harness) kill() {
	h.t.Helper()
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		h.t.Fatalf("kill: %v", err)
	}
	<-h.done
	h.cmd = nil
}

// killNow kills a server still running when the test ends early.
func (h *harness) killNow() {
	if h.cmd != nil {
		_ = h.cmd.Process.Kill()
		<-h.done
	}
}

// stop stops the server as an operator does (SIGTERM), so that the
// database is closed cleanly before it is read.
func (h *harness) stop() {
	h.t.Helper()
	if err := h.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		h.t.Fatal(err)
	}
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("server stopped with %v:\n%s", err, h.output(h.lives))
		}
	case <-time.After(30 * time.Second):
		h.t.Fatalf("server did not stop:\n%s", h.output(h.lives))
	}
	h.cmd = nil
}

// checkLock checks that a second server on the running server's data
// folder is refused (the data folder's lock), before the kills show that
// a killed server's lock is released.
func (h *harness) checkLock() {
	h.t.Helper()
	cmd := exec.Command(h.bin)
	cmd.Env = append(h.env(), "BANHAO_ADDR=127.0.0.1:0")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "a banhao server is running") {
		h.t.Fatalf("a second server on the same data folder: %v\n%s", err, out)
	}
}

func (h *harness) logPath(life int) string {
	return filepath.Join(h.logs, fmt.Sprintf("server-%d.log", life))
}

// output returns what a server life printed.
func (h *harness) output(life int) string {
	b, _ := os.ReadFile(h.logPath(life))
	return string(b)
}

// cleanEnv is the test's environment without BANHAO_* settings, so that
// a developer's own do not leak into the servers.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BANHAO_") {
			out = append(out, kv)
		}
	}
	return out
}

// freeAddr returns a loopback address with a free port; every life of the
// server listens there, as a real one does.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// lines collects the load tool's output, whose progress lines end in a
// carriage return, and signals when the load starts.
type lines struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	started chan struct{}
	once    sync.Once
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if bytes.Contains(l.buf.Bytes(), []byte("load starts")) {
		l.once.Do(func() { close(l.started) })
	}
	return len(p), nil
}

// String returns everything printed, the progress lines left out.
func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.LastIndexByte(line, '\r'); i >= 0 {
			line = line[i+1:]
		}
		if strings.TrimSpace(line) != "" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// summary is the output from the load's start on.
func (l *lines) summary() string {
	s := l.String()
	if i := strings.Index(s, "mixed: "); i >= 0 {
		return s[i:]
	}
	return s
}

// ackLine is a line of the load tool's -ack file.
type ackLine struct {
	Kind    string     `json:"kind"`
	ID      string     `json:"id"`
	Op      string     `json:"op"`
	Number  string     `json:"number"`
	Sector  string     `json:"sector"`
	Day     string     `json:"day"`
	Channel string     `json:"channel"`
	Window  string     `json:"window"`
	Calls   int        `json:"calls"`
	Start   *time.Time `json:"start"`
	State   string     `json:"state"`
	Rev     int        `json:"rev"`
}

func readAcks(t *testing.T, path string) []ackLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []ackLine
	for i, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var a ackLine
		if err := json.Unmarshal(line, &a); err != nil {
			t.Fatalf("ack line %d: %v: %s", i+1, err, line)
		}
		out = append(out, a)
	}
	return out
}

// state is what the database holds after the run.
type state struct {
	tickets  map[string]ticketRow
	counters map[groupKey]int
	appts    map[string]apptRow
	slots    []slotRow
	cases    map[string]caseRow
	outbox   map[string]string // id → status
}

func (s state) outboxBy(status string) int {
	n := 0
	for _, st := range s.outbox {
		if st == status {
			n++
		}
	}
	return n
}

// groupKey is a numbering series: tickets are numbered per center,
// sector (the one they were taken in) and day.
type groupKey struct{ center, sector, day string }

type ticketRow struct {
	id, center, sector, takenSector, day, number, holder, status string
	seq, calls                                                   int
}

type apptRow struct {
	id, center, sector, status string
	start                      int64
}

type slotRow struct {
	center, sector           string
	start                    int64
	booked, capacity, active int
}

type caseRow struct {
	id, state string
	rev       int
	doc       struct {
		State     string    `json:"state"`
		UpdatedAt time.Time `json:"updated_at"`
		History   []struct {
			At     time.Time `json:"at"`
			Action string    `json:"action"`
			State  string    `json:"state"`
		} `json:"history"`
	}
}

func loadState(t *testing.T, db *sql.DB) state {
	t.Helper()
	s := state{tickets: map[string]ticketRow{}, counters: map[groupKey]int{}, appts: map[string]apptRow{}, cases: map[string]caseRow{}, outbox: map[string]string{}}
	query := func(q string, scan func(*sql.Rows) error) {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	query(`SELECT id, center, sector, taken_sector, day, seq, number, holder, status, calls FROM tickets`, func(r *sql.Rows) error {
		var tk ticketRow
		err := r.Scan(&tk.id, &tk.center, &tk.sector, &tk.takenSector, &tk.day, &tk.seq, &tk.number, &tk.holder, &tk.status, &tk.calls)
		s.tickets[tk.id] = tk
		return err
	})
	query(`SELECT center, sector, day, seq FROM ticket_counters`, func(r *sql.Rows) error {
		var k groupKey
		var n int
		err := r.Scan(&k.center, &k.sector, &k.day, &n)
		s.counters[k] = n
		return err
	})
	query(`SELECT id, center, sector, status, start_at FROM appointments`, func(r *sql.Rows) error {
		var a apptRow
		err := r.Scan(&a.id, &a.center, &a.sector, &a.status, &a.start)
		s.appts[a.id] = a
		return err
	})
	query(`SELECT s.center, s.sector, s.start_at, s.booked, s.capacity,
			(SELECT count(*) FROM appointments a WHERE a.center = s.center AND a.sector = s.sector AND a.start_at = s.start_at
				AND a.status IN ('booked', 'checked_in'))
		FROM slots s`, func(r *sql.Rows) error {
		var sl slotRow
		err := r.Scan(&sl.center, &sl.sector, &sl.start, &sl.booked, &sl.capacity, &sl.active)
		s.slots = append(s.slots, sl)
		return err
	})
	query(`SELECT id, state, rev, doc FROM cases`, func(r *sql.Rows) error {
		var c caseRow
		var doc string
		if err := r.Scan(&c.id, &c.state, &c.rev, &doc); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(doc), &c.doc); err != nil {
			return fmt.Errorf("case %s: %w", c.id, err)
		}
		s.cases[c.id] = c
		return nil
	})
	query(`SELECT id, status FROM outbox`, func(r *sql.Rows) error {
		var id, status string
		err := r.Scan(&id, &status)
		s.outbox[id] = status
		return err
	})
	return s
}

// verdict counts acknowledged and found writes by kind and collects the
// problems found.
type verdict struct {
	acked, found map[string]int
	problems     []string
}

func (v *verdict) problem(format string, args ...any) {
	if len(v.problems) < 50 {
		v.problems = append(v.problems, fmt.Sprintf(format, args...))
	}
}

// check counts an acknowledged write of kind, found when err is "".
func (v *verdict) check(kind string, a ackLine, missing string) {
	v.acked[kind]++
	if missing != "" {
		v.problem("acknowledged %s %s lost: %s", kind, a.ID, missing)
		return
	}
	v.found[kind]++
}

// queued reports whether the outbox holds message id, pending or sent
// (with WeChat not configured, nothing is sent: all are pending).
func (s state) queued(id string) bool {
	st, ok := s.outbox[id]
	return ok && (st == "pending" || st == "sent")
}

func checkTickets(v *verdict, s state, acks []ackLine) {
	for _, a := range acks {
		tk, ok := s.tickets[a.ID]
		switch a.Kind {
		case "ticket":
			var miss string
			switch {
			case !ok:
				miss = "not in the database"
			case tk.number != a.Number || tk.takenSector != a.Sector || tk.day != a.Day:
				miss = fmt.Sprintf("stored as %s %s %s, acknowledged as %s %s %s", tk.number, tk.takenSector, tk.day, a.Number, a.Sector, a.Day)
			}
			v.check("ticket", a, miss)
		case "call":
			var miss string
			switch {
			case !ok:
				miss = "ticket not in the database"
			case tk.status == "waiting" || tk.calls < a.Calls:
				miss = fmt.Sprintf("ticket %s with %d calls, acknowledged call %d", tk.status, tk.calls, a.Calls)
			case tk.holder != "" && !s.queued(fmt.Sprintf("call:%s:%d", a.ID, a.Calls)):
				miss = "its call message is not in the outbox"
			}
			v.check("call", a, miss)
		case "complete":
			var miss string
			if !ok || tk.status != "done" {
				miss = fmt.Sprintf("ticket status %q, acknowledged done", tk.status)
			}
			v.check("complete", a, miss)
		}
	}
	// Gapless numbering: per series, 1..N once each, N the counter.
	series := map[groupKey][]int{}
	for _, tk := range s.tickets {
		k := groupKey{tk.center, tk.takenSector, tk.day}
		series[k] = append(series[k], tk.seq)
	}
	for k, seqs := range series {
		slices.Sort(seqs)
		for i, n := range seqs {
			if n != i+1 {
				v.problem("tickets of %v: number %d where %d was due (a gap or a duplicate)", k, n, i+1)
				break
			}
		}
		if c := s.counters[k]; c != len(seqs) {
			v.problem("tickets of %v: the counter says %d, %d tickets are stored", k, c, len(seqs))
		}
	}
	for k, c := range s.counters {
		if _, ok := series[k]; !ok && c > 0 {
			v.problem("tickets of %v: the counter says %d, none stored", k, c)
		}
	}
}

func checkBookings(v *verdict, s state, acks []ackLine) {
	for _, a := range acks {
		if a.Kind != "booking" {
			continue
		}
		ap, ok := s.appts[a.ID]
		var miss string
		switch {
		case !ok:
			miss = "not in the database"
		case ap.status != "booked" || a.Start == nil || ap.start != a.Start.UnixMilli():
			miss = fmt.Sprintf("stored %s at %d", ap.status, ap.start)
		case !s.queued("remind-hour:" + a.ID):
			miss = "its reminder is not in the outbox"
		}
		v.check("booking", a, miss)
	}
	for _, ap := range s.appts {
		if ap.status == "booked" && !s.queued("remind-hour:"+ap.id) {
			v.problem("appointment %s is booked, its reminder remind-hour:%s is not in the outbox", ap.id, ap.id)
		}
	}
	for _, sl := range s.slots {
		if sl.booked != sl.active {
			v.problem("slot %s %s %d: %d booked by its count, %d appointments", sl.center, sl.sector, sl.start, sl.booked, sl.active)
		}
		if sl.capacity > 0 && sl.active > sl.capacity {
			v.problem("slot %s %s %d: %d appointments for %d places", sl.center, sl.sector, sl.start, sl.active, sl.capacity)
		}
	}
}

// nextStates are the case states an event may lead to from each state;
// an event may also leave the state as it is (a note, an extension).
var nextStates = map[string][]string{
	"draft":     {"submitted", "withdrawn", "accepted", "rejected"},
	"submitted": {"accepted", "returned", "rejected", "withdrawn"},
	"returned":  {"submitted", "accepted", "withdrawn", "rejected"},
	"accepted":  {"suspended", "approved", "denied", "returned"},
	"suspended": {"accepted", "approved", "denied"},
}

// reachable says why a case's state does not follow from its history, or
// "" when it does.
func reachable(c caseRow) string {
	if c.state != c.doc.State {
		return fmt.Sprintf("column state %s, document state %s", c.state, c.doc.State)
	}
	at := "draft"
	for i, e := range c.doc.History {
		if e.State != at && !slices.Contains(nextStates[at], e.State) {
			return fmt.Sprintf("event %d (%s) leads from %s to %s", i, e.Action, at, e.State)
		}
		at = e.State
	}
	if at != c.state {
		return fmt.Sprintf("history ends in %s, the case is %s", at, c.state)
	}
	return ""
}

// laterStates are the states a case may have after an acknowledged step.
var laterStates = map[string][]string{
	"start":  {"draft", "submitted", "accepted", "approved"},
	"form":   {"draft", "submitted", "accepted", "approved"},
	"upload": {"draft", "submitted", "accepted", "approved"},
	"submit": {"submitted", "accepted", "approved"},
	"accept": {"accepted", "approved"},
	"decide": {"approved"},
}

func checkCases(v *verdict, s state, acks []ackLine) {
	for _, a := range acks {
		if a.Kind != "case" {
			continue
		}
		c, ok := s.cases[a.ID]
		var miss string
		switch {
		case !ok:
			miss = "not in the database"
		case c.rev < a.Rev || !slices.Contains(laterStates[a.Op], c.state):
			miss = fmt.Sprintf("stored %s at rev %d after an acknowledged %s to %s at rev %d", c.state, c.rev, a.Op, a.State, a.Rev)
		case (a.Op == "submit" || a.Op == "accept" || a.Op == "decide") && !s.queued(fmt.Sprintf("case:%s:%d", a.ID, a.Rev)):
			miss = "its status message is not in the outbox"
		}
		v.check("case "+a.Op, a, miss)
	}
	for _, c := range s.cases {
		if why := reachable(c); why != "" {
			v.problem("case %s: %s", c.id, why)
		}
	}
}

// checkOutbox checks that every stored change that queues a message has
// it, acknowledged or not: a call of a citizen's ticket, a case's last
// status change. A state change whose message is missing is a message
// lost by a crash between the two writes.
func checkOutbox(v *verdict, s state) {
	for _, tk := range s.tickets {
		for n := 1; tk.holder != "" && n <= tk.calls; n++ {
			if id := fmt.Sprintf("call:%s:%d", tk.id, n); !s.queued(id) {
				v.problem("ticket %s was called (%d times), message %s is not in the outbox", tk.id, tk.calls, id)
			}
		}
	}
	for _, c := range s.cases {
		h := c.doc.History
		if len(h) > 0 && h[len(h)-1].At.Equal(c.doc.UpdatedAt) {
			if id := fmt.Sprintf("case:%s:%d", c.id, c.rev); !s.queued(id) {
				v.problem("case %s changed to %s at rev %d, message %s is not in the outbox", c.id, c.state, c.rev, id)
			}
		}
	}
	for id, st := range s.outbox {
		if st != "pending" && st != "sent" && st != "withdrawn" {
			v.problem("outbox message %s is %s", id, st)
		}
	}
}
