package identity_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/identity"
)

func (e *env) loginFrom(t testing.TB, source, user, password string) error {
	t.Helper()
	_, err := e.svc.Authenticate(t.Context(), identity.AuthRequest{Methods: []string{"password"}, Source: source,
		Password: &identity.PasswordCredentials{UserName: user, DomainName: "Default", Password: password}})
	return err
}

// TestThrottleBySource: failures from one address lock that address, not
// the owner signing in from another; many names from one address lock
// the address; many addresses against one user lock the user except
// where it signed in before.
func TestThrottleBySource(t *testing.T) {
	e := setup(t)
	e.member(t, "demo", "demo", "pw")
	for range 5 {
		wantUnauthorized(t, "wrong password", e.loginFrom(t, "192.0.2.1", "demo", "wrong"))
		e.clock.Advance(time.Second)
	}
	wantUnauthorized(t, "right password from the attacking source", e.loginFrom(t, "192.0.2.1", "demo", "pw"))
	if err := e.loginFrom(t, "198.51.100.7", "demo", "pw"); err != nil {
		t.Fatalf("the owner from another source was refused: %v", err)
	}

	// One source trying many names: locked for every name after 20.
	for i := range identity.DefaultSourceFailures {
		wantUnauthorized(t, "spraying", e.loginFrom(t, "192.0.2.2", fmt.Sprintf("user%d", i), "guess"))
	}
	wantUnauthorized(t, "right password from a spraying source", e.loginFrom(t, "192.0.2.2", "demo", "pw"))
	if err := e.loginFrom(t, "198.51.100.8", "demo", "pw"); err != nil {
		t.Fatalf("the owner from another source was refused after spraying elsewhere: %v", err)
	}

	// 50 sources, one guess each: the user is locked for new sources, but
	// not for one it signed in from before.
	for i := range identity.DefaultUserFailures {
		wantUnauthorized(t, "distributed", e.loginFrom(t, fmt.Sprintf("203.0.113.%d", i), "demo", "wrong"))
	}
	wantUnauthorized(t, "right password from a new source during a distributed attack", e.loginFrom(t, "198.51.100.99", "demo", "pw"))
	if err := e.loginFrom(t, "198.51.100.7", "demo", "pw"); err != nil {
		t.Fatalf("the owner from a known source was refused during a distributed attack: %v", err)
	}
}

// TestThrottleTiming: a locked user and an unknown user are answered no
// faster than a real password check (cost 10), so timing does not tell
// which names exist or are locked.
func TestThrottleTiming(t *testing.T) {
	e := &env{store: openStore(t, ""), clock: newClock()}
	svc, err := identity.NewService(e.store, identity.Config{Key: testKey, Now: e.clock.Now, PasswordCost: 10})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	if _, err := identity.Bootstrap(t.Context(), e.svc, identity.BootstrapOptions{Password: adminPassword}); err != nil {
		t.Fatal(err)
	}
	e.member(t, "demo", "demo", "pw")
	time1 := func(source, user string) time.Duration {
		began := time.Now()
		wantUnauthorized(t, user, e.loginFrom(t, source, user, "wrong"))
		return time.Since(began)
	}
	var real, locked, unknown []time.Duration
	for i := range 5 {
		real = append(real, time1(fmt.Sprintf("192.0.2.%d", i), "demo"))
	}
	for range 6 {
		time1("192.0.2.100", "demo") // locks the pair after five
	}
	for range 5 {
		locked = append(locked, time1("192.0.2.100", "demo"))
		unknown = append(unknown, time1("192.0.2.101", "nobody"))
	}
	median := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
	t.Logf("median answer: real check %s, locked %s, unknown %s", median(real), median(locked), median(unknown))
	if slices.Min(locked) < median(real)/2 || slices.Min(unknown) < median(real)/2 {
		t.Fatalf("locked (%v) or unknown (%v) answered much faster than a real check (%v)", locked, unknown, real)
	}
}

// TestThrottleBusy: one source cannot occupy the password checks: beyond
// two logins in progress from it, it gets ErrBusy at once, while another
// source still signs in.
func TestThrottleBusy(t *testing.T) {
	e := &env{store: openStore(t, ""), clock: newClock()}
	svc, err := identity.NewService(e.store, identity.Config{Key: testKey, Now: e.clock.Now, PasswordCost: 12})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	if _, err := identity.Bootstrap(t.Context(), e.svc, identity.BootstrapOptions{Password: adminPassword}); err != nil {
		t.Fatal(err)
	}
	e.member(t, "demo", "demo", "pw")
	var wg sync.WaitGroup
	errs := make([]error, 12)
	for i := range errs {
		wg.Go(func() { errs[i] = e.loginFrom(t, "192.0.2.1", fmt.Sprintf("u%d", i), "x") })
	}
	if err := e.loginFrom(t, "198.51.100.1", "demo", "pw"); err != nil {
		t.Errorf("login from another source during the flood: %v", err)
	}
	wg.Wait()
	busy := 0
	for _, err := range errs {
		if errors.Is(err, identity.ErrBusy) {
			busy++
		} else {
			wantUnauthorized(t, "flood", err)
		}
	}
	if busy < 6 {
		t.Fatalf("%d of 12 concurrent logins from one source were turned away, want most", busy)
	}
}
