package metadef

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/policy"
)

// Authorizer is the policy check (implemented by internal/policy).
type Authorizer interface {
	Allow(ctx context.Context, p caller.Principal, action string, t policy.Target) error
}

// Options tune the service.
type Options struct {
	// Now is the clock; tests inject one.
	Now func() time.Time
	// DefaultLimit and MaxLimit bound namespace listings (Glance's
	// limit_param_default and api_limit_max).
	DefaultLimit, MaxLimit int
}

// Defaults for Options.
const (
	DefaultLimit = 25
	MaxLimit     = 1000
)

// Service implements every catalog operation with Glance's rules. Each
// method reads top to bottom: find the namespace (hiding what the caller
// may not see), check the policy rule, apply the domain rules, write
// through the Store.
type Service struct {
	store Store
	authz Authorizer
	log   *slog.Logger
	opts  Options
}

// NewService wires a Service.
func NewService(store Store, authz Authorizer, log *slog.Logger, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DefaultLimit <= 0 {
		opts.DefaultLimit = DefaultLimit
	}
	if opts.MaxLimit <= 0 {
		opts.MaxLimit = MaxLimit
	}
	return &Service{store: store, authz: authz, log: log, opts: opts}
}

// now is the clock at the microsecond every store keeps.
func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// canSee is Glance's namespace visibility (metadef_api/namespace.py
// _is_namespace_visible): admins see everything, others public
// namespaces and their own project's.
func canSee(p caller.Principal, ns *Namespace) bool {
	return p.IsAdmin() || ns.Visibility == VisibilityPublic || (p.ProjectID != "" && ns.Owner == p.ProjectID)
}

func scopeOf(p caller.Principal) Scope { return Scope{Project: p.ProjectID, Admin: p.IsAdmin()} }

// lookup says how a route words a namespace it cannot give the caller;
// Glance's controllers differ.
type lookup int

const (
	// lookupNamed: "Namespace X not found" whether missing or invisible
	// (updates, deletes, properties, tags, resource types).
	lookupNamed lookup = iota
	// lookupObjects: the database's message when missing, the named one
	// when invisible (the objects controller).
	lookupObjects
	// lookupShow: the database's message when missing, a bare 404 when
	// invisible (namespace show).
	lookupShow
)

func missingNamespace(name string) error {
	return newError(ErrNotFound, "Metadata definition namespace=%s was not found.", name)
}

func namedNotFound(name string) error { return newError(ErrNotFound, "Namespace %s not found", name) }

// namespace loads a namespace the caller may see, worded as l says.
func (s *Service) namespace(ctx context.Context, p caller.Principal, name string, l lookup) (*Namespace, error) {
	ns, err := s.store.GetNamespace(ctx, name)
	if errors.Is(err, ErrNotFound) {
		if l == lookupNamed {
			return nil, namedNotFound(name)
		}
		return nil, missingNamespace(name)
	}
	if err != nil {
		return nil, err
	}
	if !canSee(p, ns) {
		if l == lookupShow {
			return nil, notFoundResource()
		}
		return nil, namedNotFound(name)
	}
	return ns, nil
}

// target describes a namespace to the rules as Glance's MetadefAPIPolicy
// does: project_id is the namespace's owner, or the caller's own project
// when no namespace is involved.
func target(p caller.Principal, ns *Namespace) policy.Target {
	if ns == nil {
		return policy.Target{Owner: p.ProjectID}
	}
	return policy.Target{Owner: ns.Owner, Visibility: ns.Visibility}
}

// authorize checks a rule on a namespace. A refusal on a namespace the
// caller may not read (get_metadef_namespace) is a bare 404, so that no
// one learns of namespaces they cannot see (MetadefAPIPolicy._enforce).
func (s *Service) authorize(ctx context.Context, p caller.Principal, action string, ns *Namespace) error {
	err := s.authz.Allow(ctx, p, action, target(p, ns))
	if err == nil {
		return nil
	}
	var d *policy.Denied
	if !errors.As(err, &d) {
		return err
	}
	if action == "get_metadef_namespace" || s.authz.Allow(ctx, p, "get_metadef_namespace", target(p, ns)) != nil {
		return notFoundResource()
	}
	return newError(ErrForbidden, "%s", d.Msg)
}

// authorizeAll checks several rules in order.
func (s *Service) authorizeAll(ctx context.Context, p caller.Principal, ns *Namespace, actions ...string) error {
	for _, a := range actions {
		if err := s.authorize(ctx, p, a, ns); err != nil {
			return err
		}
	}
	return nil
}

// invalid prefixes a text-rule error with the operation, as Glance's
// controllers do ("Couldn't create metadata namespace: ...").
func invalid(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) && e.Kind == ErrInvalid {
		return newError(ErrInvalid, "Couldn't %s: %s", op, e.Msg)
	}
	return err
}

// protectedErr words a Store's ErrProtected for what was being deleted.
func protectedErr(err error, what, name string) error {
	if errors.Is(err, ErrProtected) {
		return newError(ErrForbidden, "Metadata definition %s %s is protected and cannot be deleted.", what, name)
	}
	return err
}

// duplicateErr words a Store's *Duplicate as Glance's 409s.
func duplicateErr(err error, namespace string) error {
	var d *Duplicate
	if !errors.As(err, &d) {
		return err
	}
	switch d.What {
	case "namespace":
		return newError(ErrDuplicate, "The metadata definition namespace=%s already exists.", d.Name)
	case "object":
		return newError(ErrDuplicate, "A metadata definition object with name=%s already exists in namespace=%s.", d.Name, namespace)
	case "property":
		return newError(ErrDuplicate, "A metadata definition property with name=%s already exists in namespace=%s.", d.Name, namespace)
	case "tag":
		return newError(ErrDuplicate, "A metadata tag with name=%s already exists in namespace=%s. (Please note that metadata tag names are case insensitive).", d.Name, namespace)
	case "association":
		return newError(ErrDuplicate, "The metadata definition resource-type association of resource-type=%s to namespace=%s already exists.", d.Name, namespace)
	}
	return newError(ErrDuplicate, "%s", fmt.Sprint(d))
}
