// Package policy decides whether a caller may perform a named action on a
// target, with an oslo.policy-compatible rule engine and Glance's rule
// names (get_image, modify_image, publicize_image, ...), so operators can
// bring the policy files they already have.
//
// Two default sets exist. The Zed legacy set (the default) is what a
// Glance 25 does with enforce_new_defaults=false: oslo.policy accepts the
// new rule or the deprecated one, which is mostly "anyone", and hard-coded
// ownership checks make mutation an owner-or-admin affair; glint writes
// those checks as glint:legacy_* rules evaluated after the action's rule.
// The new set is Glance's project-scoped reader/member/admin defaults.
//
// Visibility is decided before policy: the image service hides what a
// caller may not see (404) before any rule runs, so a denial here is only
// ever reported for an image the caller can see.
package policy

import (
	"context"
	"errors"
	"fmt"

	"github.com/glint-image/glint/internal/caller"
)

// ErrDenied is returned, wrapped in a *Denied, when a rule refuses.
var ErrDenied = errors.New("policy: denied")

// Denied names the refused action and carries the message Glance gives.
type Denied struct {
	Action string
	Msg    string
}

func (d *Denied) Error() string { return d.Msg }
func (d *Denied) Unwrap() error { return ErrDenied }

// Options choose the rules.
type Options struct {
	// NewDefaults selects the project-scoped reader/member/admin defaults
	// instead of the Zed legacy ones.
	NewDefaults bool
	// File is an oslo.policy file (YAML or JSON) whose rules replace the
	// defaults of the same name; "" for none.
	File string
}

// Target is what an action applies to. The zero value is "no image".
type Target struct {
	// ImageID is the image's id ("id" and "image_id" in rules).
	ImageID string
	// Owner is the image owner's project, or for a create the proposed
	// owner ("project_id" and "owner" in rules, as Glance's ImageTarget
	// maps project_id to the owner); "" for none.
	Owner string
	// Visibility and Status are the image's ("visibility", "status").
	Visibility string
	Status     string
	// Member is the caller's own project when it reaches a shared image
	// it does not own, i.e. as a member ("member_id"; Glance sets
	// image.member the same way). It is not the member a URL names.
	Member string
	// MemberStatus is that membership's status ("member_status").
	MemberStatus string
	// Extra holds further attributes by name (other image fields, extra
	// properties); the fields above win over a clash.
	Extra map[string]string
}

// attrs renders the target as the mapping %(name)s reads. An empty field
// is left out rather than rendered as Python's "None", so a check on it
// fails instead of matching a caller whose project is literally "None".
func (t Target) attrs() map[string]string {
	m := make(map[string]string, len(t.Extra)+8)
	for k, v := range t.Extra {
		m[k] = v
	}
	set := func(v string, keys ...string) {
		if v == "" {
			return
		}
		for _, k := range keys {
			m[k] = v
		}
	}
	set(t.ImageID, "id", "image_id")
	set(t.Owner, "project_id", "owner")
	set(t.Visibility, "visibility")
	set(t.Status, "status")
	set(t.Member, "member_id")
	set(t.MemberStatus, "member_status")
	return m
}

// Authorizer evaluates the rules. It is immutable after New and safe for
// concurrent use.
type Authorizer struct {
	rules  map[string]check
	guards map[string]string
}

// New builds an Authorizer from a default set and an optional policy file.
// A file that does not parse, or a rule set that refers to an undefined
// rule or loops, is an error naming the rule: better a failed start than a
// rule that silently never passes.
func New(opts Options) (*Authorizer, error) {
	a := &Authorizer{rules: map[string]check{}, guards: map[string]string{}}
	for name, text := range defaultRules(opts.NewDefaults) {
		c, err := parseRule(name, text)
		if err != nil {
			return nil, fmt.Errorf("policy defaults: %w", err)
		}
		a.rules[name] = c
	}
	if !opts.NewDefaults {
		for action, guard := range guardFor {
			a.guards[action] = guard
		}
	}
	if opts.File != "" {
		overrides, err := readFile(opts.File)
		if err != nil {
			return nil, err
		}
		for name, c := range overrides {
			a.rules[name] = c
		}
	}
	if err := validate(a.rules); err != nil {
		where := "policy defaults"
		if opts.File != "" {
			where = "policy file " + opts.File
		}
		return nil, fmt.Errorf("%s:\n%w", where, err)
	}
	return a, nil
}

// Allow returns nil when p may perform action on t, a *Denied otherwise.
// An action without a default rule is denied: a typo must not open
// anything.
func (a *Authorizer) Allow(_ context.Context, p caller.Principal, action string, t Target) error {
	if !actions[action] {
		return &Denied{Action: action, Msg: notAuthorized(action)}
	}
	e := &evaluation{rules: a.rules, creds: a.credentials(p), target: t.attrs()}
	if !e.rule(action) {
		return &Denied{Action: action, Msg: ruleMessage(action, p, t)}
	}
	if guard := a.guards[action]; guard != "" && !e.rule(guard) {
		return &Denied{Action: action, Msg: guardMessage(action, t)}
	}
	return nil
}

// IsAdmin reports whether p passes context_is_admin, which is what Glance
// means by an admin context.
func (a *Authorizer) IsAdmin(p caller.Principal) bool {
	c := baseCredentials(p)
	return a.isAdmin(&c)
}

// isAdmin evaluates context_is_admin on base credentials (is_admin
// "False"). Glance passes the request context's own values as the
// target of that check.
func (a *Authorizer) isAdmin(c *credentials) bool {
	e := &evaluation{rules: a.rules, creds: c, ofCreds: true}
	return e.rule("context_is_admin")
}

// credentials are what rules see of the caller: oslo.context's policy
// values plus the older tenant and user aliases and is_admin, which Glance
// computes from context_is_admin when the request context is built. A
// struct rather than a map: every check builds them.
type credentials struct {
	roles         []string
	user, project string // "" for none
	admin         bool
}

func (a *Authorizer) credentials(p caller.Principal) *credentials {
	c := baseCredentials(p)
	c.admin = a.isAdmin(&c)
	return &c
}

func baseCredentials(p caller.Principal) credentials {
	return credentials{roles: p.Roles, user: p.UserID, project: p.ProjectID}
}

// get returns the credential name: a string, or for "roles" a list
// (possibly empty, never nil); ok is false for a credential the caller
// does not have.
func (c *credentials) get(name string) (s string, list []string, ok bool) {
	switch name {
	case "roles":
		if c.roles == nil {
			return "", []string{}, true
		}
		return "", c.roles, true
	case "is_admin":
		if c.admin {
			return "True", nil, true
		}
		return "False", nil, true
	case "user_id", "user":
		return c.user, nil, c.user != ""
	case "project_id", "tenant":
		return c.project, nil, c.project != ""
	}
	return "", nil, false
}

func notAuthorized(action string) string {
	return fmt.Sprintf("You are not authorized to complete %s action.", action)
}

// ruleMessage words a refusal by the action's own rule as Glance's API
// layer does (glance/api/v2/policy.py, image_members.py).
func ruleMessage(action string, p caller.Principal, t Target) string {
	switch action {
	case "add_image":
		if t.Owner != p.ProjectID {
			return fmt.Sprintf("You are not permitted to create images owned by '%s'", t.Owner)
		}
	case "get_members":
		return fmt.Sprintf("Not allowed to list members for image %s: %s", t.ImageID, notAuthorized(action))
	case "get_member":
		return fmt.Sprintf("You are not authorized to lookup the members of the image %s.", t.ImageID)
	}
	if msg, ok := memberMessage(action, t); ok {
		return msg
	}
	return notAuthorized(action)
}

// guardMessage words a refusal by a legacy ownership check.
func guardMessage(action string, t Target) string {
	if msg, ok := memberMessage(action, t); ok {
		return msg
	}
	if action == "add_image" {
		return fmt.Sprintf("You are not permitted to create images owned by '%s'.", t.Owner)
	}
	return "You do not own this image"
}

// memberMessage is the membership controller's wording, which replaces
// whatever the rule or check said.
func memberMessage(action string, t Target) (string, bool) {
	verb, ok := map[string]string{"add_member": "create", "modify_member": "update", "delete_member": "delete"}[action]
	if !ok {
		return "", false
	}
	return fmt.Sprintf("Not allowed to %s members for image %s.", verb, t.ImageID), true
}
