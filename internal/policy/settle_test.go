package policy

import (
	"context"
	"testing"

	"github.com/glint-image/glint/internal/caller"
)

// Settle must agree with Allow on every target whenever it says the answer
// is settled.
func TestSettleAgreesWithAllow(t *testing.T) {
	callers := []caller.Principal{
		{ProjectID: "p1", UserID: "u1", Roles: []string{"member", "reader"}},
		{ProjectID: "p1", UserID: "u2", Roles: []string{"reader"}},
		{ProjectID: "p2", UserID: "u3", Roles: []string{"admin"}},
		{ProjectID: "p3", UserID: "u4"},
	}
	targets := []Target{
		{ImageID: "i1", Owner: "p1", Visibility: "private", Status: "active"},
		{ImageID: "i2", Owner: "p2", Visibility: "public", Status: "active"},
		{ImageID: "i3", Owner: "p2", Visibility: "shared", Status: "queued", Member: "p1", MemberStatus: "accepted"},
		{ImageID: "i4", Owner: "p9", Visibility: "community", Status: "active"},
	}
	for _, newDefaults := range []bool{false, true} {
		a, err := New(Options{NewDefaults: newDefaults})
		if err != nil {
			t.Fatal(err)
		}
		settledSome := false
		for action := range actions {
			for _, p := range callers {
				allowed, settled := a.Settle(p, action)
				if !settled {
					continue
				}
				settledSome = true
				for _, tg := range targets {
					if got := a.Allow(context.Background(), p, action, tg) == nil; got != allowed {
						t.Errorf("new=%v %s %+v on %s: Settle says %v, Allow says %v", newDefaults, action, p, tg.ImageID, allowed, got)
					}
				}
			}
		}
		if !settledSome {
			t.Errorf("new=%v: nothing settled", newDefaults)
		}
	}
	// The case the listing relies on: the Zed defaults let anyone read.
	a, _ := New(Options{})
	if allowed, settled := a.Settle(callers[3], "get_image"); !allowed || !settled {
		t.Errorf("Zed get_image for a role-less caller: allowed %v settled %v", allowed, settled)
	}
	// Under the new defaults a caller without reader is refused outright,
	// and a reader's answer depends on the image.
	a, _ = New(Options{NewDefaults: true})
	if allowed, settled := a.Settle(callers[3], "get_image"); allowed || !settled {
		t.Errorf("new get_image for a role-less caller: allowed %v settled %v", allowed, settled)
	}
	if _, settled := a.Settle(callers[1], "get_image"); settled {
		t.Error("new get_image for a reader was settled without the image")
	}
}
