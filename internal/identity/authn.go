package identity

import (
	"context"
	"errors"
	"slices"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// AuthRequest is a login: POST /v3/auth/tokens decoded.
type AuthRequest struct {
	// Methods are the identity methods asked for: "password" or "token".
	Methods  []string
	Password *PasswordCredentials
	// Token is the token to rescope (the token method).
	Token string
	Scope Scope
	// Source is the address the login comes from (SourceOf), for the
	// throttle; "" takes SourceFrom(ctx).
	Source string
}

// PasswordCredentials name a user by id, or by name within a domain given
// by id or name.
type PasswordCredentials struct {
	UserID     string
	UserName   string
	DomainID   string
	DomainName string
	Password   string
}

// Scope is what a new token is for. With nothing set, the token is scoped
// to the user's default project if it has one (and a role there), else
// unscoped, as Keystone does.
type Scope struct {
	ProjectID   string
	ProjectName string
	// ProjectDomainID or ProjectDomainName qualify ProjectName.
	ProjectDomainID   string
	ProjectDomainName string
	System            bool
	// Domain asks for a domain-scoped token, which glint cannot give: no
	// one holds roles on a domain. Such a login fails as Keystone's does
	// for a user without a domain role.
	Domain bool
	// Unscoped asks for an unscoped token even if the user has a default
	// project ("scope": "unscoped").
	Unscoped bool
}

// Authenticate checks a login and issues a token. Every failure to
// identify the user or to grant the scope is the same ErrUnauthorized, so
// the answer does not tell which part was wrong.
func (s *Service) Authenticate(ctx context.Context, req AuthRequest) (*Token, error) {
	methods := slices.Compact(slices.Sorted(slices.Values(req.Methods)))
	if len(methods) != 1 {
		return nil, deny("want exactly one identity method, have %q", req.Methods)
	}
	now := s.now().Truncate(time.Millisecond)
	var p payload
	switch methods[0] {
	case "password":
		if req.Password == nil {
			return nil, deny("password method without credentials")
		}
		source := req.Source
		if source == "" {
			source = SourceFrom(ctx)
		}
		u, err := s.checkPassword(ctx, *req.Password, source)
		if err != nil {
			return nil, err
		}
		p = payload{UserID: u.ID, Methods: []string{"password"},
			ExpiresAt: now.Add(s.cfg.TokenTTL).UnixMilli(), AuditIDs: []string{newAuditID()}}
	case "token":
		old, err := s.ValidateToken(ctx, req.Token)
		if err != nil {
			return nil, err
		}
		// A rescoped token ends when the original does and carries the
		// original's chain id after its own, as in Keystone.
		ms := slices.Clone(old.Methods)
		if !slices.Contains(ms, "token") {
			ms = append(ms, "token")
		}
		p = payload{UserID: old.User.ID, Methods: ms, ExpiresAt: old.ExpiresAt.UnixMilli(),
			AuditIDs: []string{newAuditID(), old.AuditIDs[len(old.AuditIDs)-1]}}
	default:
		return nil, deny("unsupported method %q", methods[0])
	}
	p.IssuedAt = now.UnixMilli()
	if err := s.resolveScope(ctx, &p, req.Scope); err != nil {
		return nil, err
	}
	t, err := s.load(ctx, p)
	if err != nil {
		return nil, err
	}
	if t.ID, err = sign(s.cfg.Key, p); err != nil {
		return nil, err
	}
	return t, nil
}

// checkPassword finds the user the credentials name and checks the
// password, applying the login throttle (throttle.go).
func (s *Service) checkPassword(ctx context.Context, c PasswordCredentials, source string) (*User, error) {
	start := time.Now()
	release, ok := s.throttle.admit(source, s.maxWaiting)
	if !ok {
		s.log.WarnContext(ctx, "login refused: too many logins in progress", "source", source)
		return nil, Errorf(ErrBusy, "Too many logins are in progress; try again in a moment.")
	}
	defer release()
	u, err := s.findUser(ctx, c)
	if err != nil {
		return nil, err
	}
	key := "?" + c.DomainID + "\x00" + c.DomainName + "\x00" + c.UserName + "\x00" + c.UserID
	if u != nil {
		key = u.ID
	}
	now := s.now()
	until := s.throttle.lockedUntil(s, key, source)
	var f LoginFailures
	if u != nil && !now.Before(until) {
		if f, err = s.store.LoginFailures(ctx, u.ID); err != nil {
			return nil, err
		}
		if u2 := s.lockedAfter(f, s.cfg.UserFailures); now.Before(u2) && !s.throttle.knownSource(u.ID, source, now) {
			until = u2
		}
	}
	// While locked, the password is not even checked: guesses get no
	// answer at all. They are not counted either, so the lock ends on
	// schedule. The answer takes as long as a real check.
	if now.Before(until) {
		s.log.WarnContext(ctx, "login refused: too many failed attempts", "user", key, "source", source, "locked_until", until.UTC())
		s.throttle.pad(ctx, start)
		return nil, deny("login throttled")
	}
	if u == nil {
		s.throttle.failed(key, source, now, s.cfg.FailureWindow)
		s.throttle.pad(ctx, start)
		return nil, deny("no such user")
	}
	ok, err = s.compareHash(ctx, []byte(u.PasswordHash), c.Password)
	if err != nil {
		return nil, err
	}
	s.throttle.observe(time.Since(start))
	if !ok {
		s.throttle.failed(u.ID, source, now, s.cfg.FailureWindow)
		f, err := s.store.AddLoginFailure(ctx, u.ID, now, now.Add(-s.cfg.FailureWindow))
		if err != nil {
			return nil, err
		}
		if f.Count >= s.cfg.UserFailures {
			s.log.WarnContext(ctx, "repeated failed logins from many sources; only known sources may sign in",
				"user_id", u.ID, "failures", f.Count, "locked_until", s.lockedAfter(f, s.cfg.UserFailures).UTC())
		}
		return nil, deny("bad password")
	}
	// Checked after the password, so only someone who knows it learns
	// that the account is disabled.
	if !u.Enabled {
		return nil, deny("user disabled")
	}
	s.throttle.succeeded(u.ID, source, now)
	if f.Count > 0 {
		if err := s.store.ClearLoginFailures(ctx, u.ID); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// findUser returns the user the credentials name, or nil if there is none.
func (s *Service) findUser(ctx context.Context, c PasswordCredentials) (*User, error) {
	if c.UserID != "" {
		u, err := s.store.GetUser(ctx, c.UserID)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		return u, err
	}
	if c.UserName == "" {
		return nil, nil
	}
	d, err := s.findDomain(ctx, c.DomainID, c.DomainName)
	if d == nil || err != nil {
		return nil, err
	}
	users, err := s.store.ListUsers(ctx, Filter{Name: c.UserName, DomainID: d.ID})
	if err != nil || len(users) == 0 {
		return nil, err
	}
	return users[0], nil
}

// findDomain returns the domain given by id or name, or nil if there is
// none.
func (s *Service) findDomain(ctx context.Context, id, name string) (*Domain, error) {
	if id != "" {
		d, err := s.store.GetDomain(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		return d, err
	}
	if name == "" {
		return nil, nil
	}
	ds, err := s.store.ListDomains(ctx, Filter{Name: name})
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	return ds[0], nil
}

// lockedAfter is when a user (or source) with these failures may try
// again: zero below the threshold, else the last failure plus a delay
// that doubles with each failure past it.
func (s *Service) lockedAfter(f LoginFailures, threshold int) time.Time {
	over := f.Count - threshold
	if over < 0 {
		return time.Time{}
	}
	delay := s.cfg.LockoutMax
	if over < 32 {
		delay = min(s.cfg.LockoutBase<<over, s.cfg.LockoutMax)
	}
	return f.LastAt.Add(delay)
}

// compareHash checks a password against a bcrypt hash, waiting for a free
// hashing slot first. An error means the caller went away while waiting,
// which must not count as a failed login.
func (s *Service) compareHash(ctx context.Context, hash []byte, password string) (bool, error) {
	select {
	case s.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.hashSlots }()
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil, nil
}

// hashPassword returns the bcrypt hash of a new password.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	if password == "" {
		return "", Errorf(ErrInvalid, "Password must not be empty.")
	}
	if len(password) > 72 {
		// bcrypt reads no further; refusing is better than silently
		// ignoring the rest.
		return "", Errorf(ErrInvalid, "Password is longer than 72 bytes.")
	}
	select {
	case s.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.hashSlots }()
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.PasswordCost)
	if err != nil {
		return "", Errorf(ErrInvalid, "Unusable password: %v.", err)
	}
	return string(h), nil
}

// resolveScope fills the scope of p from the request, checking that the
// user may have it.
func (s *Service) resolveScope(ctx context.Context, p *payload, sc Scope) error {
	switch {
	case sc.Domain:
		return deny("domain scope is not supported")
	case sc.System:
		if sc.ProjectID != "" || sc.ProjectName != "" {
			return deny("both system and project scope")
		}
		p.System = true
		return nil
	case sc.ProjectID != "" || sc.ProjectName != "":
		proj, err := s.findProject(ctx, sc)
		if err != nil {
			return err
		}
		if proj == nil {
			return deny("no such project")
		}
		p.ProjectID = proj.ID
		return nil
	case sc.Unscoped:
		return nil
	}
	// No scope asked for: Keystone's default project rule. A default
	// project the user cannot use gives an unscoped token, not an error.
	u, err := s.store.GetUser(ctx, p.UserID)
	if err != nil || u.DefaultProjectID == "" {
		return err
	}
	try := *p
	try.ProjectID = u.DefaultProjectID
	if _, err := s.load(ctx, try); err == nil {
		p.ProjectID = u.DefaultProjectID
	} else if !errors.Is(err, ErrUnauthorized) {
		return err
	}
	return nil
}

func (s *Service) findProject(ctx context.Context, sc Scope) (*Project, error) {
	if sc.ProjectID != "" {
		p, err := s.store.GetProject(ctx, sc.ProjectID)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		return p, err
	}
	d, err := s.findDomain(ctx, sc.ProjectDomainID, sc.ProjectDomainName)
	if d == nil || err != nil {
		return nil, err
	}
	ps, err := s.store.ListProjects(ctx, Filter{Name: sc.ProjectName, DomainID: d.ID})
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	return ps[0], nil
}
