package identity

import (
	"strings"
	"testing"
)

func TestPasswordHashing(t *testing.T) {
	p := Argon2Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}
	h := HashPassword("correct-horse-42", p)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=8192,t=1,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string", h)
	}
	if h == HashPassword("correct-horse-42", p) {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	if ok, _ := VerifyPassword(h, "correct-horse-42", p); !ok {
		t.Fatal("right password refused")
	}
	if ok, _ := VerifyPassword(h, "correct-horse-43", p); ok {
		t.Fatal("wrong password accepted")
	}
	// A hash made with weaker parameters verifies and asks to be redone.
	if ok, rehash := VerifyPassword(h, "correct-horse-42", DefaultArgon2()); !ok || !rehash {
		t.Fatalf("weaker hash: ok=%v rehash=%v, want true, true", ok, rehash)
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", "$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", strings.Replace(h, "$v=19", "$v=18", 1)} {
		if ok, _ := VerifyPassword(bad, "correct-horse-42", p); ok {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestRandomPasswordIsAcceptable(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		pw := RandomPassword(12)
		if err := CheckPassword("password", pw); err != nil || len(pw) != 12 || strings.ContainsAny(pw, "0O1lI") {
			t.Fatalf("RandomPassword gave %q: %v", pw, err)
		}
		if seen[pw] {
			t.Fatalf("RandomPassword repeated %q", pw)
		}
		seen[pw] = true
	}
}

func TestCheckPassword(t *testing.T) {
	for pw, ok := range map[string]bool{"short1": false, "onlyletterslong": false, "1234567890123": false, "letters-and-42": true, "密码密码密码密码密码1a": true} {
		if got := CheckPassword("password", pw) == nil; got != ok {
			t.Errorf("CheckPassword(%q) ok = %v, want %v", pw, got, ok)
		}
	}
}

// BenchmarkHashPassword is the cost of one login's password check with the
// default parameters.
func BenchmarkHashPassword(b *testing.B) {
	p := DefaultArgon2()
	for i := 0; i < b.N; i++ {
		HashPassword("correct-horse-42", p)
	}
}
