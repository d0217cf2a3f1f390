package policy

import (
	"context"
	"sync/atomic"

	"github.com/glint-image/glint/internal/caller"
)

// Reloadable is an Authorizer whose rules can be replaced while it serves
// (SIGHUP re-reads the policy file, as Glance does). Each check uses one
// rule set from start to end; a reload that fails keeps the old rules.
type Reloadable struct {
	opts Options
	cur  atomic.Pointer[Authorizer]
}

// NewReloadable builds the rules from opts, as New does.
func NewReloadable(opts Options) (*Reloadable, error) {
	a, err := New(opts)
	if err != nil {
		return nil, err
	}
	r := &Reloadable{opts: opts}
	r.cur.Store(a)
	return r, nil
}

// Reload reads the defaults and the policy file again.
func (r *Reloadable) Reload() error {
	a, err := New(r.opts)
	if err != nil {
		return err
	}
	r.cur.Store(a)
	return nil
}

func (r *Reloadable) Allow(ctx context.Context, p caller.Principal, action string, t Target) error {
	return r.cur.Load().Allow(ctx, p, action, t)
}

func (r *Reloadable) IsAdmin(p caller.Principal) bool { return r.cur.Load().IsAdmin(p) }

func (r *Reloadable) Settle(p caller.Principal, action string) (allowed, settled bool) {
	return r.cur.Load().Settle(p, action)
}
