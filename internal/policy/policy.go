// Package policy decides whether a caller may perform a named action on a
// target. Rule names are Glance's (get_image, modify_image, publicize_image,
// ...), so operators recognise them.
//
// The defaults are what a Glance 25 (Zed) install does with its default
// policy file: the oslo.policy rules are mostly empty, and hard-coded
// legacy checks make mutation an owner-or-admin affair
// (glance/api/v2/policy.py check_is_image_mutable). Visibility of an image
// is not a policy question here: the image service hides what a caller may
// not see before any rule runs, so a denial is only ever reported for an
// image the caller can see.
package policy

import (
	"context"
	"errors"
	"fmt"

	"glint/internal/auth"
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

// Target is what an action applies to.
type Target struct {
	// Owner is the image owner's project ("" for none, or for a create
	// without an explicit owner).
	Owner string
	// MemberID is the member project, for member actions.
	MemberID string
}

// Authorizer evaluates the rules.
type Authorizer struct{}

// New returns an Authorizer with the Zed legacy defaults.
func New() *Authorizer { return &Authorizer{} }

type rule func(p auth.Principal, t Target) bool

func anyone(auth.Principal, Target) bool    { return true }
func admin(p auth.Principal, _ Target) bool { return p.IsAdmin() }
func adminOrOwner(p auth.Principal, t Target) bool {
	return p.IsAdmin() || (t.Owner != "" && t.Owner == p.ProjectID)
}
func adminOrMember(p auth.Principal, t Target) bool {
	return p.IsAdmin() || (t.MemberID != "" && t.MemberID == p.ProjectID)
}

// defaults maps each action to its rule and the wording of a refusal.
var defaults = map[string]struct {
	check rule
	msg   string
}{
	"get_image":         {anyone, ""},
	"get_images":        {anyone, ""},
	"download_image":    {anyone, ""},
	"get_members":       {anyone, ""},
	"get_member":        {anyone, ""},
	"add_image":         {adminOrOwner, "You are not permitted to create images owned by '%[2]s'."},
	"modify_image":      {adminOrOwner, "You do not own this image"},
	"delete_image":      {adminOrOwner, "You do not own this image"},
	"upload_image":      {adminOrOwner, "You do not own this image"},
	"deactivate":        {adminOrOwner, "You do not own this image"},
	"reactivate":        {adminOrOwner, "You do not own this image"},
	"publicize_image":   {admin, "You are not authorized to complete %[1]s action."},
	"communitize_image": {adminOrOwner, "You are not authorized to complete %[1]s action."},
	"add_member":        {adminOrOwner, "You are not authorized to complete %[1]s action."},
	"delete_member":     {adminOrOwner, "You are not authorized to complete %[1]s action."},
	"modify_member":     {adminOrMember, "You are not authorized to complete %[1]s action."},
}

// Allow returns nil when p may perform action on t, a *Denied otherwise.
// An unknown action is denied: a typo must not open anything.
func (a *Authorizer) Allow(_ context.Context, p auth.Principal, action string, t Target) error {
	r, ok := defaults[action]
	if !ok {
		return &Denied{Action: action, Msg: fmt.Sprintf("You are not authorized to complete %s action.", action)}
	}
	if r.check(p, t) {
		return nil
	}
	return &Denied{Action: action, Msg: fmt.Sprintf(r.msg, action, t.Owner)}
}
