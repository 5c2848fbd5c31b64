package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/banhao/banhao/internal/sqlite"
)

// dbFile is the embedded store's database in the data folder.
const dbFile = "banhao.db"

// keyFiles are the secrets beside the database that a backup must carry:
// without the personal data key sealed data cannot be read, and without
// the signing key printed certificates no longer verify.
var keyFiles = []string{"banhao.key", signingKeyFile}

// backupManifest describes a backup folder.
type backupManifest struct {
	Created time.Time `json:"created"`
	Schema  int       `json:"schema"`
	Files   int       `json:"files"`
	Bytes   int64     `json:"bytes"`
	Keys    []string  `json:"keys"`
}

const manifestFile = "manifest.json"

// runBackup is "banhao backup DIR": a consistent copy of the embedded
// store, safe while the server runs: the database (one snapshot, taken
// with VACUUM INTO), then the uploaded files and the key files, into DIR,
// which must not exist yet. Uploaded files are never changed once stored,
// so copying them after the snapshot gives every file it refers to.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) < 1 || strings.HasPrefix(args[0], "-") {
		return errors.New("usage: banhao backup DIR   (DIR must not exist; flags after DIR, e.g. -data)")
	}
	out := args[0]
	cfg, err := commandConfig("banhao backup", args[1:], getenv, stdout)
	if err != nil {
		return err
	}
	if cfg.MongoURI != "" {
		return errors.New("backup: the MongoDB store is backed up with mongodump (see docs/deployment.md), not with banhao backup")
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("backup: %s exists already: choose a new folder", out)
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	dbPath := filepath.Join(cfg.DataDir, dbFile)
	if err := sqlite.Backup(ctx, dbPath, filepath.Join(out, dbFile)); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	schema, err := sqlite.Check(ctx, filepath.Join(out, dbFile))
	if err != nil {
		return fmt.Errorf("backup: the copy does not check out: %w", err)
	}
	m := backupManifest{Created: time.Now().UTC(), Schema: schema, Keys: []string{}}
	if m.Files, m.Bytes, err = copyTree(filepath.Join(cfg.DataDir, "files"), filepath.Join(out, "files")); err != nil {
		return fmt.Errorf("backup: uploaded files: %w", err)
	}
	for _, k := range keyFiles {
		switch _, err := copyFile(filepath.Join(cfg.DataDir, k), filepath.Join(out, k)); {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("backup: %s: %w", k, err)
		default:
			m.Keys = append(m.Keys, k)
		}
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := writeSynced(filepath.Join(out, manifestFile), b); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backed up %s (schema %d), %d uploaded files (%d bytes) and %s to %s\n",
		dbPath, schema, m.Files, m.Bytes, strings.Join(m.Keys, ", "), out)
	return nil
}

// runRestore is "banhao restore DIR": it puts a backup made by banhao
// backup in place as the data folder, after checking it. The server must
// be stopped (a running server holds the data folder's lock). An existing
// data folder is only replaced with -force, and then kept, renamed, beside
// the new one: a restore never deletes anything.
func runRestore(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) < 1 || strings.HasPrefix(args[0], "-") {
		return errors.New("usage: banhao restore DIR [-force]   (DIR made by banhao backup; flags after DIR, e.g. -data)")
	}
	from := args[0]
	rest := args[1:]
	force := false
	for i, a := range rest {
		if a == "-force" || a == "--force" {
			force = true
			rest = append(rest[:i:i], rest[i+1:]...)
			break
		}
	}
	cfg, err := commandConfig("banhao restore", rest, getenv, stdout)
	if err != nil {
		return err
	}
	if cfg.MongoURI != "" {
		return errors.New("restore: the MongoDB store is restored with mongorestore (see docs/deployment.md)")
	}
	b, err := os.ReadFile(filepath.Join(from, manifestFile))
	if err != nil {
		return fmt.Errorf("restore: %s is not a banhao backup: %w", from, err)
	}
	var m backupManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("restore: %s: bad manifest: %w", from, err)
	}
	schema, err := sqlite.Check(ctx, filepath.Join(from, dbFile))
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if schema != m.Schema {
		return fmt.Errorf("restore: the database in %s has schema %d, its manifest says %d", from, schema, m.Schema)
	}
	data := filepath.Clean(cfg.DataDir)
	if _, err := os.Stat(data); err == nil {
		unlock, err := lockDataDir(data)
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		unlock()
		entries, _ := os.ReadDir(data)
		if slices.ContainsFunc(entries, func(e fs.DirEntry) bool { return e.Name() != "banhao.lock" }) {
			if !force {
				return fmt.Errorf("restore: %s holds data already; add -force to replace it (it is kept, renamed)", data)
			}
			aside := data + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
			if err := os.Rename(data, aside); err != nil {
				return fmt.Errorf("restore: move the old data aside: %w", err)
			}
			fmt.Fprintf(stdout, "the old data folder is kept as %s\n", aside)
		}
	}
	if err := os.MkdirAll(data, 0o750); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if _, err := copyFile(filepath.Join(from, dbFile), filepath.Join(data, dbFile)); err != nil {
		return fmt.Errorf("restore: database: %w", err)
	}
	files, _, err := copyTree(filepath.Join(from, "files"), filepath.Join(data, "files"))
	if err != nil {
		return fmt.Errorf("restore: uploaded files: %w", err)
	}
	for _, k := range m.Keys {
		if _, err := copyFile(filepath.Join(from, k), filepath.Join(data, k)); err != nil {
			return fmt.Errorf("restore: %s: %w", k, err)
		}
	}
	fmt.Fprintf(stdout, "restored the backup of %s (schema %d, %d uploaded files) into %s\n",
		m.Created.Format(time.RFC3339), schema, files, data)
	return nil
}

// commandConfig parses the flags and environment of a command.
func commandConfig(name string, args []string, getenv func(string) string, stdout io.Writer) (config, error) {
	fset := flag.NewFlagSet(name, flag.ContinueOnError)
	fset.SetOutput(stdout)
	if err := fset.Parse(args); err != nil {
		return config{}, err
	}
	cfg, err := parseConfig(fset.Args(), getenv, stdout)
	if err != nil {
		return config{}, fmt.Errorf("configuration: %w", err)
	}
	return cfg, nil
}

// copyTree copies the regular files under src to dst, skipping the
// unfinished uploads in tmp/; a missing src copies nothing.
func copyTree(src, dst string) (int, int64, error) {
	var n int
	var size int64
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == src {
				return filepath.SkipAll
			}
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel == "tmp" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o750)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		c, err := copyFile(p, filepath.Join(dst, rel))
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed since the walk listed it
		}
		n++
		size += c
		return err
	})
	return n, size, err
}

// copyFile copies src to dst (mode 0600) through a synced temporary file
// renamed into place, and returns the bytes copied.
func copyFile(src, dst string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".copy-*")
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(tmp, in)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return 0, err
	}
	return n, nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
