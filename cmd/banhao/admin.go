package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/banhao/banhao/internal/identity"
)

// runAdmin is the administration command line: "banhao admin create"
// opens the first administrator account (or any staff account) directly in
// the store, for a fresh deployment that has nobody to log in yet.
func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New(`usage: banhao admin create -username NAME -center CODE [-name 姓名] [-roles admin,supervisor] [-sectors a,b] [-password-file FILE]`)
	}
	fs := flag.NewFlagSet("banhao admin create", flag.ContinueOnError)
	fs.SetOutput(stdout)
	username := fs.String("username", "", "login name (3-32 lower-case letters, digits, . _ -)")
	center := fs.String("center", "", "code of the center the account belongs to")
	name := fs.String("name", "管理员", "the person's name as on their badge")
	roles := fs.String("roles", "admin", "comma-separated roles: clerk, approver, supervisor, admin")
	sectors := fs.String("sectors", "", "comma-separated sector codes the account acts in; empty for all")
	pwFile := fs.String("password-file", "", "file holding the password; without it a random one is generated and printed once")
	// Store settings (data folder, MongoDB URI) come from the same BANHAO_*
	// variables and flags as the server; the rest of the arguments are theirs.
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := parseConfig(fs.Args(), getenv, stdout)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if *username == "" || *center == "" {
		return errors.New("admin create: -username and -center are required")
	}
	password, generated := "", false
	if *pwFile != "" {
		b, err := os.ReadFile(*pwFile)
		if err != nil {
			return fmt.Errorf("admin create: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	} else {
		password, generated = identity.RandomPassword(16), true
	}
	log := newLogger(cfg, io.Discard)
	st, err := openStores(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.close()
	keys, err := openKeys(cfg, io.Discard)
	if err != nil {
		return err
	}
	svc, err := newServices(cfg, st, keys, log)
	if err != nil {
		return err
	}
	if _, err := svc.catalog.Center(ctx, *center); err != nil {
		return fmt.Errorf("admin create: no center %q in the catalog (start the server once to load it)", *center)
	}
	n := identity.NewStaff{Center: *center, Username: *username, Name: *name, Password: password}
	for _, r := range splitList(*roles) {
		n.Roles = append(n.Roles, identity.Role(r))
	}
	n.Sectors = splitList(*sectors)
	staff, err := svc.identity.CreateStaff(ctx, "cli", n, identity.Origin{})
	if err != nil {
		return fmt.Errorf("admin create: %w", err)
	}
	fmt.Fprintf(stdout, "created staff account %s (%s) at %s\n", staff.Username, staff.ID, staff.Center)
	if generated {
		fmt.Fprintf(stdout, "password: %s\n(shown once: write it down, then change it after the first login)\n", password)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// createDemoAdmin opens an administrator "admin" with a random password,
// printed once, when a development server starts with no staff at all.
func createDemoAdmin(ctx context.Context, svc *services, stdout io.Writer) error {
	has, err := svc.identity.HasStaff(ctx)
	if err != nil || has {
		return err
	}
	centers, err := svc.catalog.Centers(ctx)
	if err != nil {
		return err
	}
	if len(centers) == 0 {
		return nil
	}
	center := centers[0].Code
	for _, c := range centers {
		if c.Parent == "" {
			center = c.Code
			break
		}
	}
	password := identity.RandomPassword(16)
	if _, err := svc.identity.CreateStaff(ctx, "cli", identity.NewStaff{
		Center: center, Username: "admin", Name: "演示管理员", Roles: []identity.Role{identity.RoleAdmin}, Password: password,
	}, identity.Origin{}); err != nil {
		return fmt.Errorf("create demo administrator: %w", err)
	}
	fmt.Fprintf(stdout, "DEVELOPMENT MODE: created administrator \"admin\" at %s with password %s (shown once)\n", center, password)
	return nil
}
