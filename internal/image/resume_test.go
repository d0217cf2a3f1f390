package image_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/blob/filesystem"
	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/policy"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
)

// resumeService is an image service on real SQLite and files with a
// clock the test moves.
type resumeService struct {
	svc   *image.Service
	store *sqlite.Store
	dir   string
	mu    sync.Mutex
	now   time.Time
}

func newResumeService(t *testing.T, limits map[string]int64) *resumeService {
	t.Helper()
	r := &resumeService{dir: t.TempDir(), now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st, err := sqlite.Open(t.Context(), filepath.Join(r.dir, "glint.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fs, err := filesystem.New(filepath.Join(r.dir, "images"))
	if err != nil {
		t.Fatal(err)
	}
	authz, err := policy.New(policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts := image.Options{DefaultLimits: limits, ResumeTTL: time.Hour, Now: r.clock,
		Import: image.ImportOptions{Methods: image.DefaultImportMethods, Tasks: st, StagingPrefix: "staging/",
			WorkDir: filepath.Join(r.dir, "work")}}
	r.svc, err = image.NewService(st, image.Stores{Drivers: map[string]blob.Driver{"default": fs}, Default: "default"},
		authz, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	if err != nil {
		t.Fatal(err)
	}
	r.store = st
	return r
}

func (r *resumeService) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *resumeService) advance(d time.Duration) {
	r.mu.Lock()
	r.now = r.now.Add(d)
	r.mu.Unlock()
}

func (r *resumeService) create(t *testing.T, p caller.Principal) string {
	t.Helper()
	img, err := r.svc.Create(t.Context(), p, map[string]any{"name": "r", "disk_format": "raw", "container_format": "bare"})
	if err != nil {
		t.Fatal(err)
	}
	return img.ID
}

// partialFiles counts the files resumable writers keep.
func (r *resumeService) partialFiles(t *testing.T) int {
	entries, err := os.ReadDir(filepath.Join(r.dir, "images", "tmp-partial"))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// brokenBody yields p and then fails, as a body whose connection drops.
type brokenBody struct{ r io.Reader }

func (b *brokenBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

func cut(p []byte) io.Reader { return &brokenBody{r: bytes.NewReader(p)} }

func randomData(n int, seed uint64) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0] = byte(seed)
	rand.NewChaCha8(s).Read(b)
	return b
}

var stranger = caller.Principal{UserID: "v", ProjectID: "q", Roles: []string{"member"}}

// An upload cut twice finishes with the hashes of the whole data and no
// partial state left; its image stays queued in between, as in Glance.
func TestResumeUpload(t *testing.T) {
	r := newResumeService(t, nil)
	ctx := t.Context()
	id := r.create(t, owner)
	data := randomData(5<<20+17, 1)
	cuts := []int{1<<20 + 3, 3 << 20}
	if err := r.svc.Upload(ctx, owner, id, "", cut(data[:cuts[0]]), int64(len(data))); !errors.Is(err, image.ErrInvalid) {
		t.Fatalf("cut upload: %v, want ErrInvalid", err)
	}
	img, _ := r.store.GetImage(ctx, id)
	if img.Status != image.StatusQueued {
		t.Fatalf("status after a cut upload: %s", img.Status)
	}
	pr, err := r.svc.UploadProgress(ctx, owner, id)
	if err != nil || pr.Received != int64(cuts[0]) || pr.Total != int64(len(data)) || pr.Done {
		t.Fatalf("progress: %+v, %v", pr, err)
	}
	// A resume at the wrong offset is refused with the right one, and
	// changes nothing.
	_, err = r.svc.ResumeUpload(ctx, owner, id, "", bytes.NewReader(data[5:]), image.DataRange{Start: 5, Total: int64(len(data))})
	var oe *image.OffsetError
	if !errors.As(err, &oe) || oe.Offset != int64(cuts[0]) || !errors.Is(err, image.ErrConflict) {
		t.Fatalf("resume at a wrong offset: %v", err)
	}
	// Someone else's upload is not theirs to see.
	if _, err := r.svc.UploadProgress(ctx, stranger, id); !errors.Is(err, image.ErrNotFound) {
		t.Fatalf("stranger's progress query: %v", err)
	}
	_, err = r.svc.ResumeUpload(ctx, stranger, id, "", bytes.NewReader(data[cuts[0]:]), image.DataRange{Start: int64(cuts[0]), Total: int64(len(data))})
	if !errors.Is(err, image.ErrNotFound) {
		t.Fatalf("stranger's resume: %v", err)
	}
	// A second cut, inside a resumed PUT.
	_, err = r.svc.ResumeUpload(ctx, owner, id, "", cut(data[cuts[0]:cuts[1]]), image.DataRange{Start: int64(cuts[0]), Total: int64(len(data))})
	if !errors.Is(err, image.ErrInvalid) {
		t.Fatalf("cut resume: %v", err)
	}
	if pr, _ := r.svc.UploadProgress(ctx, owner, id); pr.Received != int64(cuts[1]) {
		t.Fatalf("progress after the second cut: %+v", pr)
	}
	// Partial bytes count against image_size_total.
	u, err := r.store.ProjectUsage(ctx, owner.ProjectID)
	if err != nil || u.SizeBytes != int64(cuts[1]) {
		t.Fatalf("usage with a partial upload: %+v, %v", u, err)
	}
	// The total is known from the first PUT: a last body sent as
	// "bytes N-M/*" completes the image too.
	pr, err = r.svc.ResumeUpload(ctx, owner, id, "", bytes.NewReader(data[cuts[1]:]), image.DataRange{Start: int64(cuts[1]), Total: -1})
	if err != nil || !pr.Done || pr.Received != int64(len(data)) {
		t.Fatalf("final resume: %+v, %v", pr, err)
	}
	img, _ = r.store.GetImage(ctx, id)
	md, sh := md5.Sum(data), sha512.Sum512(data)
	if img.Status != image.StatusActive || *img.Size != int64(len(data)) || img.Checksum != hex.EncodeToString(md[:]) ||
		img.HashValue != hex.EncodeToString(sh[:]) {
		t.Fatalf("after the resumed upload: %+v", img)
	}
	if _, err := r.store.GetPartial(ctx, id); !errors.Is(err, image.ErrNotFound) {
		t.Fatalf("partial record after completion: %v", err)
	}
	if n := r.partialFiles(t); n != 0 {
		t.Fatalf("%d partial files after completion", n)
	}
	if pr, err := r.svc.UploadProgress(ctx, owner, id); err != nil || !pr.Done {
		t.Fatalf("progress of a complete image: %+v, %v", pr, err)
	}
	got := download(t, r, id)
	if !bytes.Equal(got, data) {
		t.Fatal("downloaded data differs")
	}
}

func download(t *testing.T, r *resumeService, id string) []byte {
	t.Helper()
	d, err := r.svc.Download(t.Context(), owner, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Body.Close()
	b, err := io.ReadAll(d.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A resume in chunks of unknown total (bytes N-M/*) keeps each chunk;
// the last one names the total.
func TestResumeChunks(t *testing.T) {
	r := newResumeService(t, nil)
	ctx := t.Context()
	id := r.create(t, owner)
	data := randomData(3<<20, 2)
	for off := 0; off < len(data); off += 1 << 20 {
		total := int64(-1)
		if off+1<<20 >= len(data) {
			total = int64(len(data))
		}
		pr, err := r.svc.ResumeUpload(ctx, owner, id, "", bytes.NewReader(data[off:off+1<<20]), image.DataRange{Start: int64(off), Total: total})
		if err != nil || pr.Done != (total >= 0) || pr.Received != int64(off+1<<20) {
			t.Fatalf("chunk at %d: %+v, %v", off, pr, err)
		}
	}
	if got := download(t, r, id); !bytes.Equal(got, data) {
		t.Fatal("downloaded data differs")
	}
}

// A plain PUT starts over: the partial upload goes.
func TestPlainUploadStartsOver(t *testing.T) {
	r := newResumeService(t, nil)
	ctx := t.Context()
	id := r.create(t, owner)
	_ = r.svc.Upload(ctx, owner, id, "", cut(randomData(2<<20, 3)), 4<<20)
	if r.partialFiles(t) != 1 {
		t.Fatal("no partial upload kept")
	}
	data := randomData(1000, 4)
	if err := r.svc.Upload(ctx, owner, id, "", bytes.NewReader(data), -1); err != nil {
		t.Fatal(err)
	}
	if n := r.partialFiles(t); n != 0 {
		t.Fatalf("%d partial files after a plain upload", n)
	}
	if got := download(t, r, id); !bytes.Equal(got, data) {
		t.Fatal("downloaded data differs")
	}
}

// An expired partial upload is refused with 410 and offset 0, and the
// sweeper removes expired ones it finds first.
func TestResumeExpired(t *testing.T) {
	r := newResumeService(t, nil)
	ctx := t.Context()
	a, b := r.create(t, owner), r.create(t, owner)
	data := randomData(2<<20, 5)
	for _, id := range []string{a, b} {
		_ = r.svc.Upload(ctx, owner, id, "", cut(data[:1<<20]), int64(len(data)))
	}
	r.advance(59 * time.Minute)
	if err := r.svc.SweepPartials(ctx); err != nil {
		t.Fatal(err)
	}
	if n := r.partialFiles(t); n != 2 {
		t.Fatalf("sweeper removed live partial uploads: %d left", n)
	}
	r.advance(2 * time.Minute)
	_, err := r.svc.ResumeUpload(ctx, owner, a, "", bytes.NewReader(data[1<<20:]), image.DataRange{Start: 1 << 20, Total: int64(len(data))})
	var oe *image.OffsetError
	if !errors.As(err, &oe) || oe.Offset != 0 || !errors.Is(err, image.ErrGone) {
		t.Fatalf("resume of an expired upload: %v", err)
	}
	if img, _ := r.store.GetImage(ctx, a); img.Status != image.StatusQueued {
		t.Fatalf("status after an expired resume: %s", img.Status)
	}
	if err := r.svc.SweepPartials(ctx); err != nil {
		t.Fatal(err)
	}
	if n := r.partialFiles(t); n != 0 {
		t.Fatalf("%d partial files after the sweep", n)
	}
	if _, err := r.store.GetPartial(ctx, b); !errors.Is(err, image.ErrNotFound) {
		t.Fatalf("expired record after the sweep: %v", err)
	}
	if u, _ := r.store.ProjectUsage(ctx, owner.ProjectID); u.SizeBytes != 0 {
		t.Fatalf("usage after the sweep: %+v", u)
	}
	// Starting again works.
	pr, err := r.svc.ResumeUpload(ctx, owner, a, "", bytes.NewReader(data), image.DataRange{Start: 0, Total: int64(len(data))})
	if err != nil || !pr.Done {
		t.Fatalf("fresh resumable upload: %+v, %v", pr, err)
	}
}

// A hash state that does not match the data kept is refused (409, start
// at 0) and discarded; nothing else changes.
func TestResumeBadHashState(t *testing.T) {
	r := newResumeService(t, nil)
	ctx := t.Context()
	id := r.create(t, owner)
	data := randomData(2<<20, 6)
	_ = r.svc.Upload(ctx, owner, id, "", cut(data[:1<<20]), int64(len(data)))
	pt, err := r.store.GetPartial(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	pt.HashState[len(pt.HashState)-1] ^= 1 // the byte count of sha512's state
	if err := r.store.SavePartial(ctx, pt); err != nil {
		t.Fatal(err)
	}
	_, err = r.svc.ResumeUpload(ctx, owner, id, "", bytes.NewReader(data[1<<20:]), image.DataRange{Start: 1 << 20, Total: int64(len(data))})
	var oe *image.OffsetError
	if !errors.As(err, &oe) || oe.Offset != 0 || !errors.Is(err, image.ErrConflict) {
		t.Fatalf("resume with a bad hash state: %v", err)
	}
	img, _ := r.store.GetImage(ctx, id)
	if img.Status != image.StatusQueued || img.Size != nil {
		t.Fatalf("image after a refused resume: %+v", img)
	}
	if _, err := r.store.GetPartial(ctx, id); !errors.Is(err, image.ErrNotFound) {
		t.Fatalf("partial record kept: %v", err)
	}
	if n := r.partialFiles(t); n != 0 {
		t.Fatalf("%d partial files kept", n)
	}
}

// Partial bytes count against image_size_total: a second upload that
// would pass the quota with them is refused.
func TestResumeQuota(t *testing.T) {
	r := newResumeService(t, map[string]int64{image.QuotaImageSizeTotal: 3})
	ctx := t.Context()
	a, b := r.create(t, owner), r.create(t, owner)
	_ = r.svc.Upload(ctx, owner, a, "", cut(randomData(2<<20, 7)), 3<<20)
	err := r.svc.Upload(ctx, owner, b, "", bytes.NewReader(randomData(2<<20, 8)), 2<<20)
	if !errors.Is(err, image.ErrTooLarge) {
		t.Fatalf("upload past the quota with a partial upload: %v", err)
	}
	if err := r.svc.Delete(ctx, owner, a); err != nil {
		t.Fatal(err)
	}
	if n := r.partialFiles(t); n != 0 {
		t.Fatalf("a deleted image's partial upload is kept: %d files", n)
	}
	if err := r.svc.Upload(ctx, owner, b, "", bytes.NewReader(randomData(2<<20, 8)), 2<<20); err != nil {
		t.Fatalf("upload after the partial upload went: %v", err)
	}
}

// Staging resumes too; the staged size is the whole data's.
func TestResumeStage(t *testing.T) {
	r := newResumeService(t, nil)
	ctx := t.Context()
	id := r.create(t, owner)
	data := randomData(3<<20, 9)
	_ = r.svc.Stage(ctx, owner, id, cut(data[:2<<20]), int64(len(data)))
	pr, err := r.svc.StageProgress(ctx, owner, id)
	if err != nil || pr.Received != 2<<20 {
		t.Fatalf("stage progress: %+v, %v", pr, err)
	}
	if u, _ := r.store.ProjectUsage(ctx, owner.ProjectID); u.StageBytes != 2<<20 || u.SizeBytes != 0 {
		t.Fatalf("usage with a partial stage: %+v", u)
	}
	pr, err = r.svc.ResumeStage(ctx, owner, id, bytes.NewReader(data[2<<20:]), image.DataRange{Start: 2 << 20, Total: int64(len(data))})
	if err != nil || !pr.Done {
		t.Fatalf("resumed stage: %+v, %v", pr, err)
	}
	img, _ := r.store.GetImage(ctx, id)
	if img.Status != image.StatusUploading || *img.Size != int64(len(data)) {
		t.Fatalf("after the resumed stage: %s %v", img.Status, img.Size)
	}
	if pr, _ := r.svc.StageProgress(ctx, owner, id); !pr.Done {
		t.Fatalf("stage progress after completion: %+v", pr)
	}
}

// cancelAtEOF cancels its context when its body has been read to the
// end: a client that sent every byte and went away before the answer.
type cancelAtEOF struct {
	r      io.Reader
	cancel func()
}

func (c *cancelAtEOF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		c.cancel()
	}
	return n, err
}

// A PUT whose client left after the last byte keeps all of them; a
// resume with no bytes (what the API's progress query sends) finishes it.
func TestResumeAllBytesKept(t *testing.T) {
	r := newResumeService(t, nil)
	id := r.create(t, owner)
	data := randomData(2<<20, 10)
	ctx, cancel := context.WithCancel(t.Context())
	err := r.svc.Upload(ctx, owner, id, "", &cancelAtEOF{r: bytes.NewReader(data), cancel: cancel}, int64(len(data)))
	if err == nil {
		t.Fatal("an upload whose context ended succeeded")
	}
	pr, err := r.svc.UploadProgress(t.Context(), owner, id)
	if err != nil || pr.Received != int64(len(data)) || pr.Done {
		t.Fatalf("progress: %+v, %v", pr, err)
	}
	pr, err = r.svc.ResumeUpload(t.Context(), owner, id, "", bytes.NewReader(nil), image.DataRange{Start: pr.Received, Total: pr.Total})
	if err != nil || !pr.Done {
		t.Fatalf("finishing resume: %+v, %v", pr, err)
	}
	if got := download(t, r, id); !bytes.Equal(got, data) {
		t.Fatal("downloaded data differs")
	}
}
