package blobtest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/blob/blobtest"
)

// The suite is checked against a small in-memory driver: the correct one
// must pass, and each deliberately broken variant must make the suite
// fail in the case meant to catch it. Broken variants run in a child
// process, since a failing subtest cannot be contained in this one.

func TestCorrectDriverPasses(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Driver {
		d := newMem("")
		t.Cleanup(func() {
			if n := d.count(); n != 0 {
				t.Errorf("suite left %d blobs behind", n)
			}
		})
		return d
	})
}

const faultEnv = "BLOBTEST_FAULT"

// TestFaultyDriver is the child process's entry point; it does nothing
// unless faultEnv is set.
func TestFaultyDriver(t *testing.T) {
	fault := os.Getenv(faultEnv)
	if fault == "" {
		t.Skip("run by TestSuiteCatchesFaults")
	}
	blobtest.Run(t, func(t *testing.T) blob.Driver { return newMem(fault) })
}

func TestSuiteCatchesFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	faults := map[string]string{ // fault → subtest expected to fail
		"visible-early":      "NotVisibleBeforeCommit",
		"cancel-keeps":       "Cancel",
		"no-key-check":       "InvalidKeys",
		"loose-offset":       "ReadAtOffset",
		"delete-missing-ok":  "Delete",
		"drop-last-byte":     "RoundTrip",
		"size-zero":          "Size",
		"write-after-commit": "CancelAfterCommit",
		"shared-buffer":      "ConcurrentWritersSameKey",
	}
	for fault, victim := range faults {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()
			// Only the case meant to catch the fault runs, which keeps this
			// quick and shows that case, not a neighbour, does the catching.
			run := "-test.run=^TestFaultyDriver$/^" + victim + "$"
			cmd := exec.CommandContext(t.Context(), os.Args[0], run, "-test.short", "-test.v")
			cmd.Env = append(os.Environ(), faultEnv+"="+fault)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("%s did not fail on a driver with fault %q (err %v):\n%s", victim, fault, err, out)
			}
			if want := "--- FAIL: TestFaultyDriver/" + victim + " "; !bytes.Contains(out, []byte(want)) {
				t.Errorf("fault %q: no %q in output:\n%s", fault, want, out)
			}
		})
	}
}

// mem is a minimal blob.Driver; fault, if set, names one way to break it.
type mem struct {
	fault   string
	mu      sync.Mutex
	blobs   map[string][]byte
	pending map[string]*bytes.Buffer // only for "shared-buffer"
}

func newMem(fault string) *mem {
	return &mem{fault: fault, blobs: map[string][]byte{}, pending: map[string]*bytes.Buffer{}}
}

func (m *mem) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.blobs)
}

func (m *mem) check(key string) error {
	if m.fault != "no-key-check" && !blob.ValidKey(key) {
		return fmt.Errorf("mem: %q: %w", key, blob.ErrInvalidKey)
	}
	return nil
}

func (m *mem) Writer(_ context.Context, key string) (blob.Writer, error) {
	if err := m.check(key); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	buf := new(bytes.Buffer)
	if m.fault == "shared-buffer" {
		if m.pending[key] == nil {
			m.pending[key] = buf
		}
		buf = m.pending[key]
	}
	return &memWriter{m: m, key: key, buf: buf}, nil
}

func (m *mem) Reader(_ context.Context, key string, offset int64) (io.ReadCloser, error) {
	if err := m.check(key); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.blobs[key]
	switch {
	case !ok:
		return nil, blob.ErrNotFound
	case m.fault == "loose-offset" && offset > int64(len(b)):
		offset = int64(len(b))
	case offset < 0 || offset > int64(len(b)):
		return nil, blob.ErrInvalidOffset
	}
	return io.NopCloser(bytes.NewReader(b[offset:])), nil
}

func (m *mem) Stat(_ context.Context, key string) (blob.Info, error) {
	if err := m.check(key); err != nil {
		return blob.Info{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.blobs[key]
	if !ok {
		return blob.Info{}, blob.ErrNotFound
	}
	return blob.Info{Size: int64(len(b))}, nil
}

func (m *mem) Delete(_ context.Context, key string) error {
	if err := m.check(key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.blobs[key]; !ok && m.fault != "delete-missing-ok" {
		return blob.ErrNotFound
	}
	delete(m.blobs, key)
	return nil
}

type memWriter struct {
	m    *mem
	key  string
	buf  *bytes.Buffer
	done bool
}

func (w *memWriter) Write(p []byte) (int, error) {
	if w.done && w.m.fault != "write-after-commit" {
		return 0, errors.New("mem: writer closed")
	}
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	w.buf.Write(p)
	if w.m.fault == "visible-early" {
		w.m.blobs[w.key] = bytes.Clone(w.buf.Bytes())
	}
	return len(p), nil
}

func (w *memWriter) Size() int64 {
	if w.m.fault == "size-zero" {
		return 0
	}
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	return int64(w.buf.Len())
}

func (w *memWriter) Commit(context.Context) error {
	if w.done {
		return errors.New("mem: writer closed")
	}
	w.done = true
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	b := bytes.Clone(w.buf.Bytes())
	if w.m.fault == "drop-last-byte" && len(b) > 1 {
		b = b[:len(b)-1]
	}
	w.m.blobs[w.key] = b
	return nil
}

func (w *memWriter) Cancel(context.Context) error {
	if w.done {
		return nil
	}
	w.done = true
	if w.m.fault == "cancel-keeps" {
		w.m.mu.Lock()
		defer w.m.mu.Unlock()
		w.m.blobs[w.key] = bytes.Clone(w.buf.Bytes())
	}
	return nil
}
