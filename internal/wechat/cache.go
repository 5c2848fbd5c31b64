package wechat

import (
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/cache"
)

// tokenCache is the library's cache.Cache for the access token. The
// library's own cache.Memory reads its map without holding its lock
// (upstream issue #888); this one holds a mutex on every operation. Each
// Client has its own, so it only ever holds that Client's token.
type tokenCache struct {
	now func() time.Time

	mu    sync.Mutex
	items map[string]cacheItem
}

type cacheItem struct {
	val     any
	expires time.Time
}

var _ cache.Cache = (*tokenCache)(nil)

func newTokenCache(now func() time.Time) *tokenCache {
	return &tokenCache{now: now, items: make(map[string]cacheItem)}
}

// Get implements cache.Cache; it returns nil for a missing or expired key.
func (c *tokenCache) Get(key string) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.items[key]
	if !ok {
		return nil
	}
	if !c.now().Before(it.expires) {
		delete(c.items, key)
		return nil
	}
	return it.val
}

// Set implements cache.Cache. A timeout of zero or less stores nothing:
// the library computes it as expires_in minus a margin, which is negative
// for very short-lived tokens.
func (c *tokenCache) Set(key string, val any, timeout time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if timeout <= 0 {
		delete(c.items, key)
		return nil
	}
	c.items[key] = cacheItem{val: val, expires: c.now().Add(timeout)}
	return nil
}

// IsExist implements cache.Cache.
func (c *tokenCache) IsExist(key string) bool {
	return c.Get(key) != nil
}

// Delete implements cache.Cache.
func (c *tokenCache) Delete(key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.items, key)
	return nil
}

// deleteValue removes every entry holding the string val and reports how
// many there were. Dropping by value rather than by key keeps us
// independent of the library's cache-key format.
func (c *tokenCache) deleteValue(val string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, it := range c.items {
		if s, ok := it.val.(string); ok && s == val {
			delete(c.items, k)
			n++
		}
	}
	return n
}

// clear removes everything.
func (c *tokenCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.items)
}
