package metadef_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/metadef"
	"github.com/glint-image/glint/internal/policy"
)

// TestImageCatalog: the catalog a dashboard or CLI checks image
// properties against is what the caller may read, with image prefixes.
func TestImageCatalog(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	if seeded, err := metadef.SeedShipped(ctx, st, time.Now()); err != nil || !seeded {
		t.Fatalf("SeedShipped: %v %v", seeded, err)
	}
	authz, err := policy.New(policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := metadef.NewService(st, authz, slog.New(slog.NewTextHandler(io.Discard, nil)), metadef.Options{})
	admin := caller.Principal{ProjectID: "proj-admin", Roles: []string{"admin"}}
	alice := caller.Principal{ProjectID: "proj-a", Roles: []string{"member", "reader"}}
	bob := caller.Principal{ProjectID: "proj-b", Roles: []string{"member", "reader"}}

	body := []byte(`{"namespace":"Site::Private","owner":"proj-a","resource_type_associations":[{"name":"OS::Glance::Image","prefix":"site_"}],
		"properties":{"tier":{"type":"string","title":"Tier","enum":["gold","silver"]}}}`)
	d, err := metadef.ParseNamespace(body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateNamespace(ctx, admin, d); err != nil {
		t.Fatal(err)
	}
	for who, p := range map[string]caller.Principal{"alice": alice, "bob": bob} {
		c, err := svc.ImageCatalog(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Defines("hw_watchdog_action") || !c.Defines("hw_disk_bus") || c.Defines("hw_rng:allowed") {
			t.Errorf("%s: the shipped image definitions are missing or wrong", who)
		}
		v := c.Check(map[string]string{"site_tier": "bronze", "hw_watchdog_action": "explode"})
		want := 2
		if who == "bob" {
			want = 1 // proj-a's private namespace is not his to read
		}
		if len(v) != want {
			t.Errorf("%s: %v", who, v)
		}
	}
	// The catalog holds definitions as the API shows them.
	p, err := svc.GetProperty(ctx, alice, "Site::Private", "site_tier", metadef.ResourceTypeImage)
	if err != nil {
		t.Fatal(err)
	}
	var shown map[string]any
	if err := json.Unmarshal(p.Schema, &shown); err != nil || shown["title"] != "Tier" || p.Name != "tier" {
		t.Errorf("prefixed property: %s %s %v", p.Name, p.Schema, err)
	}
	if _, err := svc.GetProperty(ctx, bob, "Site::Private", "site_tier", metadef.ResourceTypeImage); err == nil {
		t.Error("bob read proj-a's private namespace")
	}
}
