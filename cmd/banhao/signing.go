package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/printing"
)

// signingKeyFile is the key file the embedded store makes in the data
// folder on first start when BANHAO_SIGNING_KEYS is not set.
const signingKeyFile = "banhao-signing.key"

// maxSigningKeyFile bounds what is read of the key file: a spec of a few
// keys is well under a kilobyte.
const maxSigningKeyFile = 4096

// signingSpec returns the spec of the certificate signing keys:
// BANHAO_SIGNING_KEYS, or for the embedded store the key file in the data
// folder, made with one fresh key on first start. (With MongoDB the
// setting is required, checked in parseConfig: servers sharing a database
// must sign with the same keys.)
func signingSpec(cfg config, stdout io.Writer) (string, error) {
	if cfg.SigningKeys != "" {
		return cfg.SigningKeys, nil
	}
	path := filepath.Join(cfg.DataDir, signingKeyFile)
	spec, created, err := loadOrCreateSigningKeys(path, time.Now())
	if err != nil {
		return "", fmt.Errorf("certificate signing key: %w", err)
	}
	if created {
		keys, _ := printing.ParseKeys(spec)
		fmt.Fprintf(stdout, "created the certificate signing key %s (%s): back it up with the database; printed certificates verify only while its public key is published\n", path, keys)
	}
	return spec, nil
}

// loadOrCreateSigningKeys reads the spec in the key file at path, or makes
// the file with one fresh key, named "k" and the month and four random hex
// digits (k202611-3fa9), reporting created. As for the personal data key
// (seal.LoadOrCreateKeyFile), creation is exclusive and atomic (a
// temporary file hard-linked into place), so two processes starting
// together agree on one key, and a file group or others may read is
// refused.
func loadOrCreateSigningKeys(path string, now time.Time) (spec string, created bool, err error) {
	spec, err = readSigningKeys(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return spec, false, err
	}
	var b [2]byte
	_, _ = rand.Read(b[:])
	fresh, err := printing.GenerateKeySpec("k" + now.Format("200601") + "-" + hex.EncodeToString(b[:]))
	if err != nil {
		return "", false, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".signing-key-*") // mode 0600
	if err != nil {
		return "", false, fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(fresh + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", false, fmt.Errorf("write key file: %w", err)
	}
	// Link fails if path exists: another process made it first, and its
	// key is the one to use.
	switch err := os.Link(tmp.Name(), path); {
	case err == nil:
		created = true
		if d, err := os.Open(filepath.Dir(path)); err == nil {
			_ = d.Sync()
			d.Close()
		}
	case !errors.Is(err, fs.ErrExist):
		return "", false, fmt.Errorf("create key file: %w", err)
	}
	spec, err = readSigningKeys(path)
	return spec, created, err
}

func readSigningKeys(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("key file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return "", fmt.Errorf("key file %s has mode %04o, so group or others can read or change it; run chmod 600 on it (and consider the key exposed if others could read it)", path, perm)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSigningKeyFile+1))
	if err != nil {
		return "", fmt.Errorf("read key file %s: %w", path, err)
	}
	if len(b) > maxSigningKeyFile {
		return "", fmt.Errorf("key file %s is larger than %d bytes", path, maxSigningKeyFile)
	}
	spec := strings.TrimSpace(string(b))
	if _, err := printing.ParseKeys(spec); err != nil {
		return "", fmt.Errorf("key file %s: %w", path, err)
	}
	return spec, nil
}

// signingKeys parses the spec run settled on. A server always has one;
// only the command-line tools (admin, ecert), which sign nothing, and
// tests that build the services directly come without, and get a
// throwaway key.
func signingKeys(cfg config) (*printing.Keys, error) {
	spec := cfg.SigningKeys
	if spec == "" {
		var err error
		if spec, err = printing.GenerateKeySpec("unused"); err != nil {
			return nil, err
		}
	}
	keys, err := printing.ParseKeys(spec)
	if err != nil {
		return nil, fmt.Errorf("BANHAO_SIGNING_KEYS: %w", err)
	}
	return keys, nil
}

// handovers tells printing the hand-over a case chose, from the case store.
type handovers struct{ cases cases.Store }

func (h handovers) Handover(ctx context.Context, id string) (catalog.Delivery, error) {
	c, err := h.cases.GetCase(ctx, id)
	if err != nil {
		return "", err
	}
	return c.Form.Delivery, nil
}
