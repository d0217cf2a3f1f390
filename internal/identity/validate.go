package identity

import (
	"context"
	"errors"
	"time"
)

// ValidateToken checks a token's signature, expiry and revocation, and
// that its user, project and roles still allow it, and returns it filled
// in. Any failure is ErrUnauthorized (errors from the store pass through).
func (s *Service) ValidateToken(ctx context.Context, raw string) (*Token, error) {
	if raw == "" {
		return nil, deny("no token")
	}
	now := s.now()
	if t := s.validated.get(raw, now); t != nil {
		if s.cfg.TokenCache != nil {
			s.cfg.TokenCache(true)
		}
		return t, nil
	}
	if s.cfg.TokenCache != nil {
		s.cfg.TokenCache(false)
	}
	p, err := verify(s.keys, raw)
	if err != nil {
		return nil, err
	}
	if !now.Before(time.UnixMilli(p.ExpiresAt)) {
		return nil, deny("token expired")
	}
	revoked, err := s.store.IsTokenRevoked(ctx, p.AuditIDs[0])
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, deny("token revoked")
	}
	t, err := s.load(ctx, p)
	if err != nil {
		return nil, err
	}
	t.ID = raw
	s.validated.put(raw, t, now)
	return t, nil
}

// RevokeToken revokes a valid token. The revocation is kept until the
// token would have expired anyway; expired revocations are purged here,
// which keeps the table as small as the set of live revoked tokens.
func (s *Service) RevokeToken(ctx context.Context, t *Token) error {
	defer s.validated.clear()
	if err := s.store.RevokeToken(ctx, t.AuditIDs[0], t.ExpiresAt); err != nil {
		return err
	}
	return s.store.PurgeRevocations(ctx, s.now())
}

// load builds the token a payload describes from the current records: the
// user must exist and be enabled and the token not predate its password
// change; a scoped token's roles must still exist.
func (s *Service) load(ctx context.Context, p payload) (*Token, error) {
	t := &Token{
		Methods:   p.Methods,
		AuditIDs:  p.AuditIDs,
		IssuedAt:  time.UnixMilli(p.IssuedAt).UTC(),
		ExpiresAt: time.UnixMilli(p.ExpiresAt).UTC(),
		System:    p.System,
	}
	u, err := s.store.GetUser(ctx, p.UserID)
	if err != nil {
		return nil, gone(err, "user")
	}
	if !u.Enabled {
		return nil, deny("user disabled")
	}
	if t.IssuedAt.Before(u.TokensNotBefore) {
		return nil, deny("token predates the user's password change")
	}
	d, err := s.enabledDomain(ctx, u.DomainID)
	if err != nil {
		return nil, err
	}
	t.User, t.UserDomain = *u, *d
	t.User.PasswordHash = "" // a token is shown to clients; keep the hash off it

	switch {
	case p.ProjectID != "":
		proj, err := s.store.GetProject(ctx, p.ProjectID)
		if err != nil {
			return nil, gone(err, "project")
		}
		if !proj.Enabled {
			return nil, deny("project disabled")
		}
		pd, err := s.enabledDomain(ctx, proj.DomainID)
		if err != nil {
			return nil, err
		}
		t.Project, t.ProjectDomain = proj, pd
		t.Roles, err = s.effectiveRoles(ctx, AssignmentFilter{UserID: u.ID, ProjectID: proj.ID})
		if err != nil {
			return nil, err
		}
	case p.System:
		t.Roles, err = s.effectiveRoles(ctx, AssignmentFilter{UserID: u.ID, SystemOnly: true})
		if err != nil {
			return nil, err
		}
	default:
		return t, nil
	}
	if len(t.Roles) == 0 {
		return nil, deny("user has no role on the scope")
	}
	return t, nil
}

func (s *Service) enabledDomain(ctx context.Context, id string) (*Domain, error) {
	d, err := s.store.GetDomain(ctx, id)
	if err != nil {
		return nil, gone(err, "domain")
	}
	if !d.Enabled {
		return nil, deny("domain disabled")
	}
	return d, nil
}

// gone turns a missing record behind a token into ErrUnauthorized and
// passes other errors through.
func gone(err error, what string) error {
	if errors.Is(err, ErrNotFound) {
		return deny("%s no longer exists", what)
	}
	return err
}

// effectiveRoles returns the roles the matching assignments give, each
// followed by the roles it implies, without repeats.
func (s *Service) effectiveRoles(ctx context.Context, f AssignmentFilter) ([]Role, error) {
	as, err := s.store.ListAssignments(ctx, f)
	if err != nil || len(as) == 0 {
		return nil, err
	}
	all, err := s.store.ListRoles(ctx, Filter{})
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*Role, len(all))
	byName := make(map[string]*Role, len(all))
	for _, r := range all {
		byID[r.ID], byName[r.Name] = r, r
	}
	var roles []Role
	seen := map[string]bool{}
	var add func(r *Role)
	add = func(r *Role) {
		if r == nil || seen[r.ID] {
			return
		}
		seen[r.ID] = true
		roles = append(roles, *r)
		for _, name := range impliedRoles[r.Name] {
			add(byName[name])
		}
	}
	for _, a := range as {
		add(byID[a.RoleID])
	}
	return roles, nil
}
