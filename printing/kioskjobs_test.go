package printing_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/certificate"
	"github.com/banhao/banhao/internal/sqlite"
	"github.com/banhao/banhao/printing"
)

// kjLibrary is the e-certificate library as printing sees it, in memory.
type kjLibrary struct {
	mu    sync.Mutex
	certs map[string]certificate.Certificate
}

func (l *kjLibrary) Get(_ context.Context, id string) (certificate.Certificate, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.certs[id]
	if !ok {
		return c, apperr.New(apperr.NotFound, "没有这个电子证照")
	}
	return c, nil
}

func (l *kjLibrary) Open(ctx context.Context, id string) (certificate.Opened, error) {
	c, err := l.Get(ctx, id)
	return certificate.Opened{Certificate: c, Number: "DZHM2611250001", HolderName: "张三丰"}, err
}

func (l *kjLibrary) HeldBy(_ context.Context, holder string) ([]certificate.Certificate, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []certificate.Certificate
	for _, c := range l.certs {
		if c.Holder == holder {
			out = append(out, c)
		}
	}
	return out, nil
}

func (l *kjLibrary) revoke(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.certs[id]
	c.Status, c.RevokedAt = certificate.StatusRevoked, time.Now()
	l.certs[id] = c
}

// kjHandovers is the hand-over each case chose.
type kjHandovers map[string]catalog.Delivery

func (h kjHandovers) Handover(_ context.Context, id string) (catalog.Delivery, error) {
	return h[id], nil
}

type kjEnv struct {
	svc *printing.Service
	lib *kjLibrary
	now time.Time
}

// newKJ is a printing service on a real SQLite print store, with a clock
// the test moves, and three certificates of one holder: one to print at a
// kiosk, one to be mailed, one imported from another office.
func newKJ(t *testing.T) *kjEnv {
	t.Helper()
	db, err := sqlite.Open(t.Context(), sqlite.Config{Path: filepath.Join(t.TempDir(), "banhao.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	spec, err := printing.GenerateKeySpec("k1")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := printing.ParseKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	r, err := printing.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	cst := time.FixedZone("CST", 8*3600)
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, cst).UTC()
	cert := func(id, caseID string) certificate.Certificate {
		return certificate.Certificate{ID: id, Type: "无犯罪记录证明", Title: "无犯罪记录证明", Holder: "id:h1", NumberMasked: "DZ**********01",
			Issuer: "惠民县公安局", IssuedOn: day, Status: certificate.StatusValid, Case: caseID}
	}
	e := &kjEnv{lib: &kjLibrary{certs: map[string]certificate.Certificate{
		"ec1": cert("ec1", "cs1"), "ec2": cert("ec2", "cs2"), "ec3": cert("ec3", ""),
	}}, now: time.Date(2026, 11, 25, 9, 0, 0, 0, cst)}
	handovers := kjHandovers{"cs1": catalog.DeliveryKioskPrint, "cs2": catalog.DeliveryExpress}
	e.svc = printing.NewService(e.lib, keys, r, sqlite.NewPrintStore(db), audit.NewLog(sqlite.NewAuditStore(db), func() time.Time { return e.now }),
		slog.New(slog.DiscardHandler), func() time.Time { return e.now }, cst, "https://zwfw.example.gov.cn/", printing.WithHandovers(handovers))
	return e
}

func wantCode(t *testing.T, what string, err error, code apperr.Code) {
	t.Helper()
	if !apperr.Is(err, code) {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
}

// TestKioskJobRules: only certificates meant for kiosk self-print are
// listed and printed; an open job blocks others until it times out; a
// job's PDF goes to its kiosk and card once; a PDF that cannot be made
// leaves the job as it was.
func TestKioskJobRules(t *testing.T) {
	ctx := context.Background()
	e := newKJ(t)

	list, err := e.svc.Printable(ctx, "id:h1")
	if err != nil || len(list) != 1 || list[0].ID != "ec1" || !list[0].Original {
		t.Fatalf("printable: %+v %v; want ec1 alone (ec2 is mailed, ec3 imported)", list, err)
	}
	_, err = e.svc.StartJob(ctx, "ks1", "hm", "id:h1", "ec2")
	wantCode(t, "printing a mailed certificate", err, printing.CodePrintState)
	_, err = e.svc.StartJob(ctx, "ks1", "hm", "id:h1", "ec3")
	wantCode(t, "printing an imported certificate", err, printing.CodePrintState)
	_, err = e.svc.StartJob(ctx, "ks1", "hm", "id:other", "ec1")
	wantCode(t, "printing another's certificate", err, apperr.NotFound)

	// An abandoned job: nobody fetched it. Another kiosk waits until it
	// times out, and its PDF can no longer be fetched.
	j1, err := e.svc.StartJob(ctx, "ks1", "hm", "id:h1", "ec1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.StartJob(ctx, "ks2", "hm", "id:h1", "ec1")
	wantCode(t, "a second job while one is open", err, printing.CodePrintState)
	e.now = e.now.Add(printing.JobTimeout)
	_, _, err = e.svc.Download(ctx, "ks1", "hm", "id:h1", j1.ID)
	wantCode(t, "fetching a timed-out job", err, printing.CodePrintState)
	j2, err := e.svc.StartJob(ctx, "ks2", "hm", "id:h1", "ec1")
	if err != nil || j2.ID == j1.ID || j2.Copy {
		t.Fatalf("job after the timeout: %+v %v", j2, err)
	}
	h, err := e.svc.History(ctx, "ec1")
	if err != nil || len(h.Jobs) != 2 || h.Jobs[0].Status != printing.JobFailed || h.Jobs[0].Reason != "超时未完成" {
		t.Fatalf("history after the timeout: %+v %v", h, err)
	}

	// The PDF: to its kiosk and card only; once.
	_, _, err = e.svc.Download(ctx, "ks1", "hm", "id:h1", j2.ID)
	wantCode(t, "another kiosk fetching", err, apperr.NotFound)
	_, _, err = e.svc.Download(ctx, "ks2", "hm", "id:other", j2.ID)
	wantCode(t, "another card fetching", err, apperr.NotFound)
	_, _, err = e.svc.Download(ctx, "ks2", "hm", "id:h1", "pj-garbage")
	wantCode(t, "an unknown job", err, apperr.NotFound)

	// Revoked between the job and its download: refused, the job untouched.
	e.lib.revoke("ec1")
	_, _, err = e.svc.Download(ctx, "ks2", "hm", "id:h1", j2.ID)
	wantCode(t, "fetching a revoked certificate", err, printing.CodeRevoked)
	h, _ = e.svc.History(ctx, "ec1")
	if h.Jobs[1].Status != printing.JobCreated {
		t.Fatalf("a refused download changed the job: %+v", h.Jobs[1])
	}
	if list, _ := e.svc.Printable(ctx, "id:h1"); len(list) != 0 {
		t.Fatalf("a revoked certificate is listed: %+v", list)
	}
}

// TestKioskJobOnceUnderRace: kiosks racing for the original of one
// certificate get one job; the others are refused.
func TestKioskJobOnceUnderRace(t *testing.T) {
	ctx := context.Background()
	e := newKJ(t)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = e.svc.StartJob(ctx, "ks"+string(rune('a'+i)), "hm", "id:h1", "ec1")
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !apperr.Is(err, printing.CodePrintState):
			t.Errorf("racing start: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d racing kiosks got a job, want one", ok, n)
	}
}
