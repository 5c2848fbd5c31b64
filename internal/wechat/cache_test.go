package wechat

import (
	"sync"
	"testing"
	"time"
)

func TestTokenCacheExpiry(t *testing.T) {
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	c := newTokenCache(func() time.Time { return now })

	if err := c.Set("k", "tok", time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := c.Get("k"); got != "tok" || !c.IsExist("k") {
		t.Fatalf("Get = %v", got)
	}
	now = now.Add(59 * time.Second)
	if c.Get("k") != "tok" {
		t.Fatal("expired early")
	}
	now = now.Add(time.Second)
	if c.Get("k") != nil || c.IsExist("k") {
		t.Fatal("not expired at the deadline")
	}

	// The library computes expires_in minus a margin; a non-positive
	// timeout must not leave an entry behind.
	_ = c.Set("k", "tok", time.Minute)
	_ = c.Set("k", "tok2", -time.Second)
	if c.Get("k") != nil {
		t.Fatal("non-positive timeout stored a value")
	}
}

func TestTokenCacheDeleteValue(t *testing.T) {
	c := newTokenCache(time.Now)
	_ = c.Set("a", "old", time.Hour)
	_ = c.Set("b", "new", time.Hour)
	_ = c.Set("c", 42, time.Hour)
	if n := c.deleteValue("old"); n != 1 {
		t.Fatalf("deleted %d", n)
	}
	if n := c.deleteValue("old"); n != 0 {
		t.Fatalf("deleted %d the second time", n)
	}
	if c.Get("a") != nil || c.Get("b") != "new" || c.Get("c") != 42 {
		t.Fatal("wrong entries left")
	}
	if err := c.Delete("b"); err != nil || c.Get("b") != nil {
		t.Fatal("Delete")
	}
	c.clear()
	if c.Get("c") != nil {
		t.Fatal("clear")
	}
}

// TestTokenCacheConcurrent is for -race: cache.Memory of the library
// fails it (upstream issue #888).
func TestTokenCacheConcurrent(t *testing.T) {
	c := newTokenCache(time.Now)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				_ = c.Set("k", "v", time.Duration(i+j)*time.Millisecond)
				_ = c.Get("k")
				_ = c.IsExist("k")
				c.deleteValue("v")
				_ = c.Delete("k")
			}
		})
	}
	wg.Wait()
}
