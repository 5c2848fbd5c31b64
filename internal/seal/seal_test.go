package seal

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// testKey returns a fixed 32-byte key in standard base64, distinct per name.
func testKey(name string) string {
	sum := sha256.Sum256([]byte("banhao seal test key " + name))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func mustRing(t testing.TB, spec string) *Keyring {
	t.Helper()
	r, err := ParseKeyring(spec)
	if err != nil {
		t.Fatalf("ParseKeyring: %v", err)
	}
	return r
}

func ring1(t testing.TB) *Keyring  { return mustRing(t, "k1:"+testKey("1")) }
func ring12(t testing.TB) *Keyring { return mustRing(t, "k1:"+testKey("1")+",k2:"+testKey("2")) }

const ctxID = "citizen/0193a1b2-0000-7000-8000-000000000001/id_number"

func TestSealOpenRoundTrip(t *testing.T) {
	r := ring1(t)
	for _, plain := range []string{
		"",
		"37162519900101001X",
		"13800138000",
		"欧阳娜娜",
		"山东省滨州市惠民县城关街道办事处鼓楼街 1 号",
		strings.Repeat("长", 5000),
		"nul\x00inside",
	} {
		sealed, err := r.Seal(plain, ctxID)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		if plain != "" && strings.Contains(sealed, plain) {
			t.Errorf("sealed text contains the plaintext")
		}
		got, err := r.Open(sealed, ctxID)
		if err != nil {
			t.Fatalf("Open(%.20q): %v", plain, err)
		}
		if got != plain {
			t.Errorf("Open = %.20q, want %.20q", got, plain)
		}
	}
}

func TestSealFormat(t *testing.T) {
	r := ring1(t)
	plain := "37162519900101001X"
	sealed, err := r.Seal(plain, ctxID)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(sealed, ".")
	if len(parts) != 3 || parts[0] != "v1" || parts[1] != "k1" {
		t.Fatalf("sealed = %q, want v1.k1.<payload>", sealed)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil {
		t.Fatalf("payload is not unpadded base64url: %v", err)
	}
	if want := nonceLen + len(plain) + tagLen; len(raw) != want {
		t.Errorf("payload is %d bytes, want %d", len(raw), want)
	}
	again, _ := r.Seal(plain, ctxID)
	if again == sealed {
		t.Error("two seals of the same value are equal; the nonce is not random")
	}
}

func TestOpenWrongContext(t *testing.T) {
	r := ring1(t)
	sealed, _ := r.Seal("37162519900101001X", ctxID)
	for _, ctx := range []string{
		"",
		"citizen/0193a1b2-0000-7000-8000-000000000002/id_number", // another record
		"citizen/0193a1b2-0000-7000-8000-000000000001/mobile",    // another field
		ctxID + " ",
	} {
		got, err := r.Open(sealed, ctx)
		if !errors.Is(err, ErrAuth) || got != "" {
			t.Errorf("Open with context %q = %q, %v; want \"\", ErrAuth", ctx, got, err)
		}
	}
}

func TestOpenTampered(t *testing.T) {
	r := ring12(t)
	sealed, _ := r.Seal("13800138000", ctxID)
	prefix := sealed[:strings.LastIndexByte(sealed, '.')+1]
	raw, _ := base64.RawURLEncoding.DecodeString(sealed[len(prefix):])

	// Every single-bit flip, in nonce, ciphertext or tag, must fail.
	for i := range raw {
		for bit := 0; bit < 8; bit++ {
			bad := bytes.Clone(raw)
			bad[i] ^= 1 << bit
			got, err := r.Open(prefix+base64.RawURLEncoding.EncodeToString(bad), ctxID)
			if !errors.Is(err, ErrAuth) || got != "" {
				t.Fatalf("flip byte %d bit %d: Open = %q, %v; want ErrAuth", i, bit, got, err)
			}
		}
	}
	// Truncated or extended payloads.
	for _, bad := range [][]byte{raw[:len(raw)-1], append(bytes.Clone(raw), 0)} {
		if _, err := r.Open(prefix+base64.RawURLEncoding.EncodeToString(bad), ctxID); err == nil {
			t.Errorf("Open of a %d-byte payload succeeded", len(bad))
		}
	}
	// The same payload relabelled with the other key of the ring.
	relabelled := strings.Replace(sealed, ".k2.", ".k1.", 1)
	if _, err := r.Open(relabelled, ctxID); !errors.Is(err, ErrAuth) {
		t.Errorf("relabelled key id: err = %v, want ErrAuth", err)
	}
}

func TestOpenMalformed(t *testing.T) {
	r := ring1(t)
	good, _ := r.Seal("x", ctxID)
	payload := good[len("v1.k1."):]
	short := base64.RawURLEncoding.EncodeToString(make([]byte, nonceLen+tagLen-1))
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrMalformed},
		{"plaintext", "37162519900101001X", ErrMalformed},
		{"no payload separator", "v1.k1" + payload, ErrMalformed},
		{"unknown version", "v2.k1." + payload, ErrMalformed},
		{"upper-case version", "V1.k1." + payload, ErrMalformed},
		{"empty kid", "v1.." + payload, ErrMalformed},
		{"bad kid", "v1.K1." + payload, ErrMalformed},
		{"long kid", "v1.abcdefghijklmnopq." + payload, ErrMalformed},
		{"extra dot", "v1.k1." + payload + ".x", ErrMalformed},
		{"padding", "v1.k1." + payload + "=", ErrMalformed},
		{"std alphabet", "v1.k1." + strings.NewReplacer("-", "+", "_", "/").Replace(payload) + "+/", ErrMalformed},
		{"newline inside", "v1.k1." + payload[:10] + "\n" + payload[10:], ErrMalformed},
		{"leading space", " " + good, ErrMalformed},
		{"too short", "v1.k1." + short, ErrMalformed},
		{"empty payload", "v1.k1.", ErrMalformed},
		{"unknown kid", "v1.k9." + payload, ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Open(tt.in, ctxID)
			if !errors.Is(err, tt.want) || got != "" {
				t.Errorf("Open = %q, %v; want \"\", %v", got, err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), payload) {
				t.Errorf("error echoes the payload: %v", err)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	old := ring1(t)
	rotated := ring12(t)
	if got := old.CurrentKeyID(); got != "k1" {
		t.Errorf("old CurrentKeyID = %q", got)
	}
	if got := rotated.CurrentKeyID(); got != "k2" {
		t.Errorf("rotated CurrentKeyID = %q", got)
	}

	byK1, _ := old.Seal("37162519900101001X", ctxID)
	byK2, _ := rotated.Seal("13800138000", ctxID)
	if !strings.HasPrefix(byK2, "v1.k2.") {
		t.Errorf("rotated ring sealed with %q, want k2", byK2[:6])
	}
	if got, err := rotated.Open(byK1, ctxID); err != nil || got != "37162519900101001X" {
		t.Errorf("rotated ring opens k1 value = %q, %v", got, err)
	}
	if _, err := old.Open(byK2, ctxID); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old ring opens k2 value: err = %v, want ErrUnknownKey", err)
	}

	if !rotated.NeedsRotation(byK1) {
		t.Error("k1 value under a k2 ring should need rotation")
	}
	if rotated.NeedsRotation(byK2) {
		t.Error("k2 value under a k2 ring should not need rotation")
	}
	if old.NeedsRotation(byK1) {
		t.Error("k1 value under a k1 ring should not need rotation")
	}
	if !rotated.NeedsRotation("garbage") {
		t.Error("malformed value should be reported for rotation")
	}

	for _, kind := range []string{"id_number", "mobile"} {
		if a, b := old.BlindIndex(kind, "37162519900101001X"), rotated.BlindIndex(kind, "37162519900101001X"); a != b {
			t.Errorf("blind index %s changed when k2 was appended", kind)
		}
	}
}

func TestBlindIndex(t *testing.T) {
	r := ring1(t)
	a := r.BlindIndex("id_number", "37162519900101001X")
	if len(a) != 64 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("index %q is not 64 lower-case hex digits", a)
	}
	if b := r.BlindIndex("id_number", "37162519900101001X"); a != b {
		t.Error("same kind and value gave different indexes")
	}
	if b := r.BlindIndex("mobile", "37162519900101001X"); a == b {
		t.Error("different kinds gave the same index")
	}
	if b := r.BlindIndex("id_number", "371625199001010012"); a == b {
		t.Error("different values gave the same index")
	}
	// The separator keeps kind and value apart.
	if r.BlindIndex("ab", "c") == r.BlindIndex("a", "bc") {
		t.Error("kind/value boundary is ambiguous")
	}
	other := mustRing(t, "k1:"+testKey("other"))
	if b := other.BlindIndex("id_number", "37162519900101001X"); a == b {
		t.Error("a different first key gave the same index")
	}
	// The index key is not the encryption key's hash in disguise: a ring whose
	// second key is another ring's first still indexes differently.
	swapped := mustRing(t, "k2:"+testKey("2")+",k1:"+testKey("1"))
	if b := swapped.BlindIndex("id_number", "37162519900101001X"); a == b {
		t.Error("index did not follow the first key")
	}

	for _, kind := range []string{"", "a\x00b"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("BlindIndex(%q) did not panic", kind)
				}
			}()
			r.BlindIndex(kind, "x")
		}()
	}
}

func TestParseKeyring(t *testing.T) {
	k1, k2 := testKey("1"), testKey("2")
	r := mustRing(t, " k1:"+k1+" ,\n k2:"+k2+"\n")
	if got := r.CurrentKeyID(); got != "k2" {
		t.Errorf("CurrentKeyID = %q, want k2", got)
	}
	long := strings.Repeat("a", 16)
	if got := mustRing(t, long+":"+k1).CurrentKeyID(); got != long {
		t.Errorf("16-char kid: CurrentKeyID = %q", got)
	}

	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	tests := []struct{ name, spec, wantMsg string }{
		{"empty", "", "empty"},
		{"blank", " \n", "empty"},
		{"no colon", k1, "want kid:base64key"},
		{"empty kid", ":" + k1, "key id must be"},
		{"upper-case kid", "K1:" + k1, "key id must be"},
		{"kid too long", strings.Repeat("a", 17) + ":" + k1, "key id must be"},
		{"kid with dash", "k-1:" + k1, "key id must be"},
		{"empty key", "k1:", "key is empty"},
		{"not base64", "k1:" + k1[:20] + "!!" + k1[22:], "not valid standard base64"},
		{"url base64", "k1:" + strings.ReplaceAll(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32)), "/", "_"), "not valid standard base64"},
		{"unpadded", "k1:" + strings.TrimRight(k1, "="), "not valid standard base64"},
		{"short key", "k1:" + short, "must be 32 bytes, got 16"},
		{"duplicate kid", "k1:" + k1 + ",k1:" + k2, `key id "k1" already used by entry 1`},
		{"duplicate key", "k1:" + k1 + ",k2:" + k1, "same key as k1"},
		{"trailing comma", "k1:" + k1 + ",", "entry 2"},
		{"key reversed", k1 + ":k1", "key id must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKeyring(tt.spec)
			if err == nil {
				t.Fatalf("ParseKeyring(%q) succeeded", tt.name)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", err, tt.wantMsg)
			}
			for _, secret := range []string{k1, k2, k1[:12], k2[:12], short} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error echoes key material: %v", err)
				}
			}
		})
	}
}

func TestKeyringPrintsNoKeys(t *testing.T) {
	k1 := testKey("1")
	r := ring1(t)
	raw, _ := base64.StdEncoding.DecodeString(k1)
	for _, s := range []string{fmt.Sprint(r), fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r), fmt.Sprintf("%+v", *r), fmt.Sprintf("%#v", *r)} {
		if strings.Contains(s, k1) || strings.Contains(s, fmt.Sprintf("%x", raw[:8])) || strings.Contains(s, fmt.Sprint(raw[:4])) {
			t.Errorf("printed keyring shows key material: %s", s)
		}
	}
	if got := fmt.Sprint(ring12(t)); got != "seal.Keyring(keys=k1,k2 current=k2)" {
		t.Errorf("String = %q", got)
	}
}

func TestEmptyKeyring(t *testing.T) {
	var r Keyring
	if _, err := r.Seal("x", ctxID); err == nil {
		t.Error("Seal on an empty keyring succeeded")
	}
	sealed, _ := ring1(t).Seal("x", ctxID)
	if _, err := r.Open(sealed, ctxID); err == nil {
		t.Error("Open on an empty keyring succeeded")
	}
	if r.CurrentKeyID() != "" {
		t.Error("empty keyring has a current key")
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seal.key")
	r1, created, err := LoadOrCreateKeyFile(path)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreateKeyFile = created %v, %v; want created", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %04o, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "k1:") || !strings.HasSuffix(string(data), "\n") {
		t.Errorf("key file is not one k1 entry")
	}
	if r1.CurrentKeyID() != "k1" {
		t.Errorf("CurrentKeyID = %q", r1.CurrentKeyID())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the key file", len(entries))
	}

	r2, created, err := LoadOrCreateKeyFile(path)
	if err != nil || created {
		t.Fatalf("second LoadOrCreateKeyFile = created %v, %v; want reuse", created, err)
	}
	sealed, _ := r1.Seal("37162519900101001X", ctxID)
	if got, err := r2.Open(sealed, ctxID); err != nil || got != "37162519900101001X" {
		t.Errorf("reloaded ring does not open the first ring's value: %v", err)
	}
	if r1.BlindIndex("id_number", "x") != r2.BlindIndex("id_number", "x") {
		t.Error("reloaded ring has another blind index key")
	}
}

func TestLoadKeyFileRefusesLooseMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620} {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "seal.key")
			key := testKey("1")
			if err := os.WriteFile(path, []byte("k1:"+key+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			_, created, err := LoadOrCreateKeyFile(path)
			if err == nil || created {
				t.Fatalf("mode %04o accepted", mode)
			}
			if !strings.Contains(err.Error(), "group or others") || !strings.Contains(err.Error(), "chmod 600") {
				t.Errorf("error does not explain the mode: %v", err)
			}
			if strings.Contains(err.Error(), key) {
				t.Errorf("error echoes key material")
			}
		})
	}
}

func TestLoadKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("k1:"+testKey("1")[:20]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKeyFile(bad); err == nil || !strings.Contains(err.Error(), "key file") {
		t.Errorf("corrupt key file: err = %v", err)
	}
	if _, _, err := LoadOrCreateKeyFile(filepath.Join(dir, "missing", "seal.key")); err == nil {
		t.Error("key file in a missing directory was created")
	}
	if _, _, err := LoadOrCreateKeyFile(dir); err == nil {
		t.Error("a directory was accepted as key file")
	}
}

// TestCreateKeyFileRace starts several loaders on one missing file: exactly
// one creates it and all end with the same key.
func TestCreateKeyFileRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seal.key")
	const n = 8
	var (
		wg      sync.WaitGroup
		rings   [n]*Keyring
		created [n]bool
		errs    [n]error
	)
	for i := range n {
		wg.Go(func() { rings[i], created[i], errs[i] = LoadOrCreateKeyFile(path) })
	}
	wg.Wait()
	creators := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("loader %d: %v", i, errs[i])
		}
		if created[i] {
			creators++
		}
	}
	if creators != 1 {
		t.Errorf("%d loaders created the file, want 1", creators)
	}
	sealed, _ := rings[0].Seal("x", ctxID)
	for i := 1; i < n; i++ {
		if _, err := rings[i].Open(sealed, ctxID); err != nil {
			t.Errorf("loader %d has another key: %v", i, err)
		}
	}
}

// FuzzOpen feeds arbitrary text and contexts to Open: it must never panic,
// and may succeed only on the exact values the fuzz ring sealed, with their
// own context.
func FuzzOpen(f *testing.F) {
	r := ring12(f)
	old := ring1(f)
	type sealedValue struct{ context, plain string }
	valid := map[string]sealedValue{}
	var counter uint64
	add := func(ring *Keyring, plain, context string) string {
		// Deterministic nonces keep the set of valid values the same from
		// run to run, so that cached corpus entries stay meaningful.
		counter++
		nonce := make([]byte, nonceLen)
		binary.BigEndian.PutUint64(nonce[4:], counter)
		s, err := ring.seal(plain, context, nonce)
		if err != nil {
			f.Fatal(err)
		}
		valid[s] = sealedValue{context, plain}
		return s
	}
	for _, c := range []struct{ plain, context string }{
		{"37162519900101001X", "c/1/id"},
		{"", "c/1/id"},
		{"张三", ""},
		{"13800138000", "c/2/mobile"},
	} {
		f.Add(add(r, c.plain, c.context), c.context)
		f.Add(add(old, c.plain, c.context), c.context)
	}
	f.Add("v1.k1.", "")
	f.Add("v1.k9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "")
	f.Add("", "")

	f.Fuzz(func(t *testing.T, sealed, context string) {
		got, err := r.Open(sealed, context)
		if want, ok := valid[sealed]; ok && want.context == context && (err != nil || got != want.plain) {
			t.Fatalf("Open of a sealed value = %v, want its plaintext", err)
		}
		if err != nil {
			if got != "" {
				t.Fatalf("Open failed but returned %d bytes", len(got))
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrAuth) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		want, ok := valid[sealed]
		if !ok || want.context != context || want.plain != got {
			t.Fatalf("Open accepted a value that Seal did not produce: %q (context %q)", sealed, context)
		}
		_ = r.NeedsRotation(sealed)
	})
}

// BenchmarkSealOpen seals and opens an 18-character ID number, the most
// common sealed value.
func BenchmarkSealOpen(b *testing.B) {
	r := ring12(b)
	const id = "37162519900101001X"
	b.ReportAllocs()
	for b.Loop() {
		s, err := r.Seal(id, ctxID)
		if err != nil {
			b.Fatal(err)
		}
		if got, err := r.Open(s, ctxID); err != nil || got != id {
			b.Fatal("round trip failed")
		}
	}
}

// BenchmarkBlindIndex measures one lookup key computation.
func BenchmarkBlindIndex(b *testing.B) {
	r := ring1(b)
	b.ReportAllocs()
	for b.Loop() {
		r.BlindIndex("id_number", "37162519900101001X")
	}
}
