package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/banhao/banhao/assets"
	"github.com/banhao/banhao/internal/certificate"
)

// runECert is "banhao ecert import FILE": it fills the e-certificate
// library from a JSON array of certificates exported by issuing offices,
// until banhao issues its own. Every record is checked before any is
// stored; importing a file again updates the certificates it holds.
func runECert(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) < 2 || args[0] != "import" {
		return errors.New(`usage: banhao ecert import FILE.json   (a JSON array of {"type","number","id_number","name","issuer","issued_on","valid_until"})`)
	}
	fs := flag.NewFlagSet("banhao ecert import", flag.ContinueOnError)
	fs.SetOutput(stdout)
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	cfg, err := parseConfig(fs.Args(), getenv, stdout)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	b, err := os.ReadFile(args[1])
	if err != nil {
		return fmt.Errorf("ecert import: %w", err)
	}
	var recs []certificate.Record
	if err := json.Unmarshal(b, &recs); err != nil {
		return fmt.Errorf("ecert import: %s is not a JSON array of certificates: %w", args[1], err)
	}
	st, err := openStores(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.close()
	keys, err := openKeys(cfg, io.Discard)
	if err != nil {
		return err
	}
	svc, err := newServices(cfg, st, keys, newLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	n, err := svc.ecerts.Import(ctx, "cli", "import", recs)
	if err != nil {
		return fmt.Errorf("ecert import: %w", err)
	}
	fmt.Fprintf(stdout, "imported %d e-certificates\n", n)
	return nil
}

// loadDemoCertificates puts the demo people's e-certificates in the
// library (the kiosk demo's 张三丰 and 李四), so that 免提交 can be tried
// at once. Importing again changes nothing but the update time.
func loadDemoCertificates(ctx context.Context, lib *certificate.Library) error {
	b, err := assets.FS.ReadFile("catalog/demo-ecerts.json")
	if err != nil {
		return fmt.Errorf("read demo e-certificates: %w", err)
	}
	var recs []certificate.Record
	if err := json.Unmarshal(b, &recs); err != nil {
		return fmt.Errorf("demo e-certificates: %w", err)
	}
	if _, err := lib.Import(ctx, "cli", "demo", recs); err != nil {
		return fmt.Errorf("load demo e-certificates: %w", err)
	}
	return nil
}
