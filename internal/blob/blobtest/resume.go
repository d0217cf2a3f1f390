package blobtest

import (
	"bytes"
	"context"
	"testing"

	"github.com/glint-image/glint/internal/blob"
)

// runResume runs the resumable-writer cases when the driver is a
// blob.Resumer.
func runResume(t *testing.T, newDriver func(t *testing.T) blob.Driver) {
	cases := []struct {
		name string
		fn   func(*testing.T, blob.Driver, blob.Resumer)
	}{
		{"ResumeAcrossCheckpoints", testResumeAcrossCheckpoints},
		{"ResumeEmpty", testResumeEmpty},
		{"ResumeStaleCheckpoint", testResumeStaleCheckpoint},
		{"ResumeDiscard", testResumeDiscard},
		{"ResumeBadState", testResumeBadState},
		{"ResumeSweepKeeps", testResumeSweepKeeps},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDriver(t)
			r, ok := blob.As[blob.Resumer](d)
			if !ok {
				t.Skip("driver is not a blob.Resumer")
			}
			c.fn(t, d, r)
		})
	}
}

// writeAll writes p in chunks of 1 MiB, failing the test on error.
func writeAll(t *testing.T, w blob.Writer, p []byte) {
	t.Helper()
	for len(p) > 0 {
		n := min(len(p), 1<<20)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatalf("Write: %v", err)
		}
		p = p[n:]
	}
}

func checkpoint(t *testing.T, w blob.ResumableWriter, want int64) []byte {
	t.Helper()
	if w.Size() != want {
		t.Fatalf("Size() = %d before checkpoint, want %d", w.Size(), want)
	}
	st, err := w.Checkpoint(t.Context())
	if err != nil {
		t.Fatalf("Checkpoint: %v", err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("Write after Checkpoint succeeded")
	}
	if err := w.Cancel(t.Context()); err != nil {
		t.Fatalf("Cancel after Checkpoint: %v", err)
	}
	return st
}

func resume(t *testing.T, r blob.Resumer, key string, st []byte, want int64) blob.ResumableWriter {
	t.Helper()
	w, err := r.Resume(t.Context(), key, st)
	if err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if w.Size() != want {
		t.Fatalf("Size() after Resume = %d, want %d", w.Size(), want)
	}
	return w
}

// Three sittings, split at odd offsets (inside what S3 would buffer as a
// part, and past a whole part), make one blob.
func testResumeAcrossCheckpoints(t *testing.T, d blob.Driver, r blob.Resumer) {
	key := "resume-across"
	tidy(t, d, key)
	want := content(21, 40<<20+123)
	cuts := []int{3<<20 + 7, 21<<20 + 1}
	w, err := r.ResumableWriter(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, want[:cuts[0]])
	st := checkpoint(t, w, int64(cuts[0]))
	wantAbsent(t, d, key)
	w = resume(t, r, key, st, int64(cuts[0]))
	writeAll(t, w, want[cuts[0]:cuts[1]])
	st = checkpoint(t, w, int64(cuts[1]))
	w = resume(t, r, key, st, int64(cuts[1]))
	writeAll(t, w, want[cuts[1]:])
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	wantContent(t, d, key, want)
	if err := r.Discard(t.Context(), st); err != nil {
		t.Errorf("Discard of a committed upload's state: %v", err)
	}
	wantContent(t, d, key, want)
}

func testResumeEmpty(t *testing.T, d blob.Driver, r blob.Resumer) {
	key := "resume-empty"
	tidy(t, d, key)
	w, err := r.ResumableWriter(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	st := checkpoint(t, w, 0)
	w = resume(t, r, key, st, 0)
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	wantContent(t, d, key, []byte{})
}

// A process that checkpointed twice but recorded only the first state
// (it crashed in between) resumes from the first: the bytes after it do
// not count.
func testResumeStaleCheckpoint(t *testing.T, d blob.Driver, r blob.Resumer) {
	key := "resume-stale"
	tidy(t, d, key)
	want := content(22, 30<<20)
	w, err := r.ResumableWriter(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, want[:5<<20])
	first := checkpoint(t, w, 5<<20)
	w = resume(t, r, key, first, 5<<20)
	writeAll(t, w, content(23, 20<<20)) // bytes that will not count
	checkpoint(t, w, 25<<20)
	w = resume(t, r, key, first, 5<<20)
	writeAll(t, w, want[5<<20:])
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	wantContent(t, d, key, want)
}

func testResumeDiscard(t *testing.T, d blob.Driver, r blob.Resumer) {
	key := "resume-discard"
	tidy(t, d, key)
	w, err := r.ResumableWriter(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, content(24, 20<<20))
	st := checkpoint(t, w, 20<<20)
	if err := r.Discard(t.Context(), st); err != nil {
		t.Fatalf("Discard: %v", err)
	}
	if err := r.Discard(t.Context(), st); err != nil {
		t.Errorf("second Discard: %v", err)
	}
	_, err = r.Resume(t.Context(), key, st)
	wantErr(t, err, blob.ErrResumeState, "Resume after Discard")
	wantAbsent(t, d, key)
}

func testResumeBadState(t *testing.T, d blob.Driver, r blob.Resumer) {
	key := "resume-bad"
	for _, st := range [][]byte{nil, []byte("{"), []byte(`{"file":"../x","size":1}`), []byte(`{"upload_id":""}`)} {
		_, err := r.Resume(t.Context(), key, st)
		wantErr(t, err, blob.ErrResumeState, "Resume(%q)", st)
	}
	// Another key's state is refused too (the S3 state names its object;
	// a file state is the store's, whatever the key).
	w, err := r.ResumableWriter(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, []byte("abc"))
	st := checkpoint(t, w, 3)
	t.Cleanup(func() { _ = r.Discard(context.Background(), st) })
	if bytes.Contains(st, []byte(`"object"`)) {
		_, err = r.Resume(t.Context(), "other-key", st)
		wantErr(t, err, blob.ErrResumeState, "Resume of another key's state")
	}
	wantAbsent(t, d, key)
}

// Sweep, which clears crashed writers' state, keeps a checkpointed one.
func testResumeSweepKeeps(t *testing.T, d blob.Driver, r blob.Resumer) {
	sw, ok := blob.As[blob.Sweeper](d)
	if !ok {
		t.Skip("driver has no Sweep")
	}
	key := "resume-sweep"
	tidy(t, d, key)
	want := content(25, 6<<20)
	w, err := r.ResumableWriter(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, want[:4<<20])
	st := checkpoint(t, w, 4<<20)
	if err := sw.Sweep(t.Context()); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	w = resume(t, r, key, st, 4<<20)
	writeAll(t, w, want[4<<20:])
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	wantContent(t, d, key, want)
}
