package s3_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"slices"
	"testing"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/blob/s3"
	"github.com/glint-image/glint/internal/blob/s3/s3test"
)

// TestResumableWriterRequests counts the requests of resumable writers
// on a real server: a blob that fits in one part costs one PUT, exactly
// as with a plain Writer (it once cost a multipart upload created and
// aborted around the PUT, and a listing of tails); cancelling such a
// writer costs nothing; a checkpoint starts the multipart upload it
// needs, and the resumed writer still commits the whole blob.
func TestResumableWriterRequests(t *testing.T) {
	s := testServer(t)
	bucket := newBucket(t, s)
	log := s3test.NewRequestLog(t, s.endpoint)
	viaLog := s
	viaLog.endpoint = log.Addr
	d := newDriver(t, viaLog, bucket)

	small := make([]byte, 1<<20+3)
	rand.Read(small)
	for _, tc := range []struct {
		name  string
		write func(key string) error
	}{
		{"plain", func(key string) error {
			w, err := d.Writer(t.Context(), key)
			if err != nil {
				return err
			}
			writeAll(t, w, small)
			return w.Commit(t.Context())
		}},
		{"resumable", func(key string) error {
			w, err := d.ResumableWriter(t.Context(), key)
			if err != nil {
				return err
			}
			writeAll(t, w, small)
			return w.Commit(t.Context())
		}},
	} {
		key := "small/" + tc.name
		log.Take()
		if err := tc.write(key); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		t.Cleanup(func() { d.Delete(context.Background(), key) })
		if got := log.Take(); !slices.Equal(got, []string{"PUT object"}) {
			t.Errorf("%s writer of %d bytes sent %v, want one PUT", tc.name, len(small), got)
		}
		wantBlob(t, d, key, small)
	}

	// Cancelled before anything was sent: nothing to undo.
	log.Take()
	w, err := d.ResumableWriter(t.Context(), "small/cancelled")
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, small)
	if err := w.Cancel(t.Context()); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if got := log.Take(); len(got) > 0 {
		t.Errorf("cancelling an unsent resumable writer sent %v", got)
	}

	// A checkpoint of a writer that filled no part yet starts the upload
	// and stores the tail; the resumed writer, still short of a part,
	// commits as one PUT and drops the upload and its tail.
	log.Take()
	w, err = d.ResumableWriter(t.Context(), "small/resumed")
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, small[:1000])
	state, err := w.Checkpoint(t.Context())
	if err != nil {
		t.Fatalf("Checkpoint: %v", err)
	}
	if got := log.Take(); !slices.Equal(got, []string{"POST uploads", "PUT tail"}) {
		t.Errorf("checkpoint sent %v, want the upload started and its tail stored", got)
	}
	if up := incompleteUploads(t, s, bucket, ""); len(up) != 1 {
		t.Errorf("incomplete uploads after a checkpoint: %v, want the checkpoint's", up)
	}
	rw, err := d.Resume(t.Context(), "small/resumed", state)
	if err != nil {
		t.Fatalf("Resume: %v", err)
	}
	writeAll(t, rw, small[1000:])
	if err := rw.Commit(t.Context()); err != nil {
		t.Fatalf("Commit after Resume: %v", err)
	}
	t.Cleanup(func() { d.Delete(context.Background(), "small/resumed") })
	log.Take()
	if up := incompleteUploads(t, s, bucket, ""); len(up) > 0 {
		t.Errorf("incomplete uploads after the resumed Commit: %v", up)
	}
	wantBlob(t, d, "small/resumed", small)

	// A blob of more than one part is a multipart upload either way.
	big := make([]byte, s3.MinPartSize+10)
	rand.Read(big)
	log.Take()
	w, err = d.ResumableWriter(t.Context(), "big")
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, big)
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	t.Cleanup(func() { d.Delete(context.Background(), "big") })
	if got := log.Take(); !slices.Equal(got, []string{"POST uploads", "PUT part", "PUT part", "POST complete"}) {
		t.Errorf("a two-part blob sent %v", got)
	}
	wantBlob(t, d, "big", big)
}

// wantBlob fails unless the blob at key reads back as want.
func wantBlob(t *testing.T, d blob.Driver, key string, want []byte) {
	t.Helper()
	r, err := d.Reader(t.Context(), key, 0)
	if err != nil {
		t.Errorf("Reader(%q): %v", key, err)
		return
	}
	defer r.Close()
	var got bytes.Buffer
	if _, err := got.ReadFrom(r); err != nil || !bytes.Equal(got.Bytes(), want) {
		t.Errorf("blob %q: %d bytes (err %v), want the %d written", key, got.Len(), err, len(want))
	}
}
