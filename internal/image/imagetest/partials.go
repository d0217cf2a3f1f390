package imagetest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/glint-image/glint/internal/image"
)

// testPartials covers partial uploads: save, replace, conditional delete,
// staleness (expired or image deleted), and their bytes in quota usage.
func testPartials(t *testing.T, s image.Store) {
	ctx := t.Context()
	create(t, s, newImage("p1"), newImage("p2"), newImage("p3"))
	if _, err := s.GetPartial(ctx, "p1"); !errors.Is(err, image.ErrNotFound) {
		t.Fatalf("GetPartial of none: %v, want ErrNotFound", err)
	}
	p := &image.Partial{ImageID: "p1", Kind: image.PartialFile, Owner: "owner", Store: "s", Key: "p1",
		Offset: 3 << 20, Total: 10 << 20, HashState: []byte{1, 2}, FormatState: []byte("{}"), BlobState: []byte(`{"x":1}`),
		CreatedAt: at(1), UpdatedAt: at(2), ExpiresAt: at(100)}
	if err := s.SavePartial(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetPartial(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Offset != p.Offset || got.Total != p.Total || got.Kind != p.Kind || got.Key != p.Key || got.Store != p.Store ||
		!bytes.Equal(got.HashState, p.HashState) || !bytes.Equal(got.BlobState, p.BlobState) ||
		!got.UpdatedAt.Equal(p.UpdatedAt) || !got.ExpiresAt.Equal(p.ExpiresAt) || !got.CreatedAt.Equal(p.CreatedAt) {
		t.Fatalf("GetPartial = %+v, want %+v", got, p)
	}
	// A later checkpoint replaces it.
	p2 := *p
	p2.Offset, p2.UpdatedAt, p2.HashState = 5<<20, at(3), nil
	if err := s.SavePartial(ctx, &p2); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetPartial(ctx, "p1"); got == nil || got.Offset != 5<<20 || got.HashState != nil {
		t.Fatalf("after replace: %+v", got)
	}
	stage := &image.Partial{ImageID: "p2", Kind: image.PartialStage, Owner: "owner", Key: "staging/p2", Offset: 1 << 20,
		Total: -1, BlobState: []byte("{}"), CreatedAt: at(1), UpdatedAt: at(1), ExpiresAt: at(5)}
	if err := s.SavePartial(ctx, stage); err != nil {
		t.Fatal(err)
	}
	if err := s.SavePartial(ctx, &image.Partial{ImageID: "missing", Kind: image.PartialFile, BlobState: []byte("{}"),
		CreatedAt: at(1), UpdatedAt: at(1), ExpiresAt: at(1)}); !errors.Is(err, image.ErrNotFound) {
		t.Fatalf("SavePartial of a missing image: %v, want ErrNotFound", err)
	}
	u, err := s.ProjectUsage(ctx, "owner")
	if err != nil || u.SizeBytes != 5<<20 || u.StageBytes != 1<<20 || u.Images != 3 {
		t.Fatalf("usage with partial uploads: %+v, %v", u, err)
	}
	// p2 expired at 5; p1 not before 100.
	stale, err := s.StalePartials(ctx, at(10), 10)
	if err != nil || len(stale) != 1 || stale[0].ImageID != "p2" {
		t.Fatalf("StalePartials at 10: %v, %v", stale, err)
	}
	// A deleted image's partial is stale whatever its expiry, and no
	// longer counted.
	if _, err := s.DeleteImage(ctx, "p1", at(11)); err != nil {
		t.Fatal(err)
	}
	stale, err = s.StalePartials(ctx, at(10), 10)
	if err != nil || len(stale) != 2 {
		t.Fatalf("StalePartials after delete: %v, %v", stale, err)
	}
	if u, _ := s.ProjectUsage(ctx, "owner"); u.SizeBytes != 0 {
		t.Fatalf("a deleted image's partial upload still counts: %+v", u)
	}
	// Delete only if unchanged since read.
	if err := s.DeletePartial(ctx, "p1", at(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPartial(ctx, "p1"); err != nil {
		t.Fatalf("DeletePartial of an older version removed the newer: %v", err)
	}
	if err := s.DeletePartial(ctx, "p1", at(3)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePartial(ctx, "p2", stage.UpdatedAt.Add(0)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"p1", "p2"} {
		if _, err := s.GetPartial(ctx, id); !errors.Is(err, image.ErrNotFound) {
			t.Errorf("GetPartial(%s) after delete: %v", id, err)
		}
	}
	if err := s.DeletePartial(ctx, "p3", at(0)); err != nil {
		t.Errorf("DeletePartial of none: %v", err)
	}
}
