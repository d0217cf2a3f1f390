package identity

import (
	"sync"
	"time"
)

// Validating a token costs several store reads (revocation, user,
// project, domain, role assignments), and every API request carries one,
// usually the same one as the request before. tokenCache keeps recent
// answers for a few seconds (Config.TokenCacheTTL), bounded in size.
// Every identity change this node makes empties it, so it only ever hides
// a change made on another node, and then for at most the TTL. A token
// is never served from the cache past its own expiry.
type tokenCache struct {
	ttl     time.Duration // <= 0: no caching
	mu      sync.Mutex
	entries map[string]cachedToken
}

type cachedToken struct {
	t     *Token
	until time.Time
}

// maxCachedTokens bounds the cache; when it is full it is emptied, which
// costs one store round per live token and no bookkeeping per hit.
const maxCachedTokens = 10000

func (c *tokenCache) get(raw string, now time.Time) *Token {
	if c.ttl <= 0 {
		return nil
	}
	c.mu.Lock()
	e, ok := c.entries[raw]
	c.mu.Unlock()
	if !ok || !now.Before(e.until) {
		return nil
	}
	t := *e.t // callers may set fields of their copy
	return &t
}

func (c *tokenCache) put(raw string, t *Token, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	until := now.Add(c.ttl)
	if t.ExpiresAt.Before(until) {
		until = t.ExpiresAt
	}
	cp := *t
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxCachedTokens {
		c.entries = map[string]cachedToken{}
	}
	c.entries[raw] = cachedToken{t: &cp, until: until}
}

// clear forgets every validation; called after any identity change.
func (c *tokenCache) clear() {
	c.mu.Lock()
	c.entries = nil
	c.mu.Unlock()
}
