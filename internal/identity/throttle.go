package identity

import (
	"context"
	"net"
	"sync"
	"time"
)

// Login throttling. Failures are counted three ways:
//
//   - per user and source (the TCP peer address): MaxLoginFailures in a
//     row lock that pair, with a delay that doubles with every further
//     failure (lockedUntil). The owner signing in from another address is
//     not affected.
//   - per source, over all user names: SourceFailures lock the address,
//     so one client cannot try many names.
//   - per user, over all sources (in the store, so every node sees it):
//     UserFailures lock the user against guessing from many addresses,
//     except from addresses that signed in as that user before (known
//     sources, remembered by this node), so an attack from elsewhere does
//     not lock the owner out.
//
// Unknown user names are counted like real ones, and a locked or unknown
// user is answered after as long as a real password check takes, so
// neither the lock nor the answer's timing tells which names exist.
// bcrypt work is bounded: at most one check per CPU runs, at most
// maxWaiting wait, and one source has at most perSourceInFlight logins
// in progress; beyond that a login gets ErrBusy at once.
type throttle struct {
	mu       sync.Mutex
	pairs    map[string]*LoginFailures // user key + "\x00" + source
	sources  map[string]*LoginFailures
	known    map[string]time.Time // user id + "\x00" + source → last success
	inFlight map[string]int       // source → logins in progress
	waiting  int
	// checkTime is a moving average of a real password check (waiting
	// included), the time every login answer takes at least.
	checkTime time.Duration
}

const (
	// maxTracked bounds each map; past it, expired records are dropped,
	// then arbitrary ones.
	maxTracked        = 100000
	perSourceInFlight = 2
	// knownFor is how long a source that signed in stays known.
	knownFor = 30 * 24 * time.Hour
)

func newThrottle(checkTime time.Duration) *throttle {
	return &throttle{pairs: map[string]*LoginFailures{}, sources: map[string]*LoginFailures{},
		known: map[string]time.Time{}, inFlight: map[string]int{}, checkTime: checkTime}
}

// sourceCtxKey carries a login's source through in-process calls (the
// dashboard signs in through the identity API without a connection).
type sourceCtxKey struct{}

// WithSource returns ctx carrying the address a login comes from.
func WithSource(ctx context.Context, remoteAddr string) context.Context {
	return context.WithValue(ctx, sourceCtxKey{}, SourceOf(remoteAddr))
}

// SourceFrom returns the source WithSource put in ctx, or "".
func SourceFrom(ctx context.Context) string {
	s, _ := ctx.Value(sourceCtxKey{}).(string)
	return s
}

// SourceOf is the source of a login from a request's RemoteAddr: the host
// without the port.
func SourceOf(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return remoteAddr
}

// admit takes a place for a login from source, or says there is none.
func (t *throttle) admit(source string, maxWaiting int) (release func(), ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.inFlight[source] >= perSourceInFlight || t.waiting >= maxWaiting {
		return nil, false
	}
	t.inFlight[source]++
	t.waiting++
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.waiting--
		if t.inFlight[source]--; t.inFlight[source] <= 0 {
			delete(t.inFlight, source)
		}
	}, true
}

func pairKey(user, source string) string { return user + "\x00" + source }

// lockedUntil is when this user key may try again from source, as far as
// this node's records go: the later of the pair's and the source's locks.
func (t *throttle) lockedUntil(s *Service, user, source string) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	var until time.Time
	if f, ok := t.pairs[pairKey(user, source)]; ok {
		until = s.lockedAfter(*f, s.cfg.MaxLoginFailures)
	}
	if f, ok := t.sources[source]; ok {
		if u := s.lockedAfter(*f, s.cfg.SourceFailures); u.After(until) {
			until = u
		}
	}
	return until
}

// knownSource tells whether source signed in as userID lately.
func (t *throttle) knownSource(userID, source string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.known[pairKey(userID, source)]
	return ok && now.Sub(at) < knownFor
}

// failed counts a failure of user key from source.
func (t *throttle) failed(user, source string, now time.Time, window time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	count(t.pairs, pairKey(user, source), now, window)
	count(t.sources, source, now, window)
}

func count(m map[string]*LoginFailures, key string, now time.Time, window time.Duration) {
	f, ok := m[key]
	if !ok {
		if len(m) >= maxTracked {
			prune(m, now, window)
		}
		f = &LoginFailures{}
		m[key] = f
	}
	if now.Sub(f.LastAt) > window {
		f.Count = 0
	}
	f.Count++
	f.LastAt = now
}

// prune drops records older than the window and, if that is not enough,
// arbitrary ones, so the maps stay bounded under a flood of names.
func prune(m map[string]*LoginFailures, now time.Time, window time.Duration) {
	for k, f := range m {
		if now.Sub(f.LastAt) > window {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) < maxTracked*9/10 {
			break
		}
		delete(m, k)
	}
}

// succeeded forgets the pair's failures and remembers the source.
func (t *throttle) succeeded(userID, source string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pairs, pairKey(userID, source))
	if len(t.known) >= maxTracked {
		for k, at := range t.known {
			if now.Sub(at) >= knownFor || len(t.known) >= maxTracked*9/10 {
				delete(t.known, k)
			}
		}
	}
	t.known[pairKey(userID, source)] = now
}

// observe folds the duration of a real check into the average.
func (t *throttle) observe(d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.checkTime += (d - t.checkTime) / 8
}

// pad waits until a login that began at start has taken as long as a real
// check does.
func (t *throttle) pad(ctx context.Context, start time.Time) {
	t.mu.Lock()
	d := t.checkTime - time.Since(start)
	t.mu.Unlock()
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}
