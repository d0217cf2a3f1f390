package bench

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/servertest"
)

func TestPatternReadAndWriteToAgree(t *testing.T) {
	const size = 3*blockSize + 12345
	var viaRead bytes.Buffer
	if _, err := io.CopyBuffer(&viaRead, struct{ io.Reader }{newPattern(size)}, make([]byte, 4097)); err != nil {
		t.Fatal(err)
	}
	var viaWriteTo bytes.Buffer
	if _, err := newPattern(size).WriteTo(&viaWriteTo); err != nil {
		t.Fatal(err)
	}
	if viaRead.Len() != size || !bytes.Equal(viaRead.Bytes(), viaWriteTo.Bytes()) {
		t.Fatalf("Read gave %d bytes, WriteTo %d, equal %v", viaRead.Len(), viaWriteTo.Len(), bytes.Equal(viaRead.Bytes(), viaWriteTo.Bytes()))
	}
	// Blocks differ from each other (the stamp), so a server that
	// repeated the first MiB would be caught.
	b := viaRead.Bytes()
	if bytes.Equal(b[:blockSize], b[blockSize:2*blockSize]) {
		t.Fatal("the first two blocks are equal")
	}
	d, _ := patternDigests(size)
	m, s := md5.Sum(b), sha512.Sum512(b)
	if d.md5 != hex.EncodeToString(m[:]) || d.sha512 != hex.EncodeToString(s[:]) {
		t.Fatalf("digests %+v do not match the data", d)
	}
}

func TestPatternCheckerCatchesOneBadByte(t *testing.T) {
	const size = 2*blockSize + 7
	var buf bytes.Buffer
	newPattern(size).WriteTo(&buf)
	good := &patternChecker{}
	if _, err := io.CopyBuffer(good, bytes.NewReader(buf.Bytes()), make([]byte, 1000)); err != nil || good.seen() != size {
		t.Fatalf("good data: %v after %d bytes", err, good.seen())
	}
	for _, at := range []int{0, 7, 8, blockSize + 3, 2*blockSize + 6} {
		bad := bytes.Clone(buf.Bytes())
		bad[at] ^= 1
		c := &patternChecker{}
		if _, err := io.Copy(c, bytes.NewReader(bad)); err == nil {
			t.Errorf("a flipped byte at %d was not noticed", at)
		}
	}
}

func TestPercentile(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 50 * time.Millisecond, 0.95: 95 * time.Millisecond, 0.99: 99 * time.Millisecond, 1: 100 * time.Millisecond} {
		if got := percentile(lat, q); got != want {
			t.Errorf("p%v = %v, want %v", q*100, got, want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("percentile of nothing is not 0")
	}
}

func TestProcTreeOfThisProcess(t *testing.T) {
	p := procTree{root: os.Getpid()}
	if p.RSS() <= 0 {
		t.Fatal("no resident memory read for this process")
	}
	t0 := p.CPU()
	for deadline := time.Now().Add(100 * time.Millisecond); time.Now().Before(deadline); {
	}
	if p.CPU() <= t0 {
		t.Fatal("100 ms of spinning used no CPU according to /proc")
	}
}

// The callers of the tests' runs, as glint bench names them.
var (
	benchMember = TrustedIdentity("bench-project", "bench-user", "member", "reader")
	benchAdmin  = TrustedIdentity("bench-admin", "bench-admin-user", "admin")
	benchSharer = TrustedIdentity("bench-sharer", "bench-sharer-user", "member", "reader")
	benchLonely = TrustedIdentity("bench-lonely", "bench-lonely-user", "member", "reader")
)

// startTrusted starts a glint of its own that takes trusted headers.
func startTrusted(t *testing.T) *servertest.Server {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Auth = config.AuthTrustedHeaders
	return servertest.Start(t, cfg)
}

// TestRunAgainstGlint runs every workload, small, against a real glint
// over HTTP and checks that each produced figures and no errors: the
// benchmark verifies what it transfers, so this also checks glint's
// checksums and its downloads byte for byte.
func TestRunAgainstGlint(t *testing.T) {
	ts := startTrusted(t)

	var js, md bytes.Buffer
	opts := Options{Endpoint: ts.URL, Pid: os.Getpid(),
		Member:  benchMember,
		Admin:   benchAdmin,
		Sharer:  benchSharer,
		Lonely:  benchLonely,
		Catalog: 60, Clients: []int{1, 8}, Duration: 150 * time.Millisecond, // 8: the targets' level
		TransferSize: 3*blockSize + 5, ConcurrentSize: blockSize + 1, Concurrent: 3,
		// A directory that does not exist yet, as --dir may name.
		Dir: filepath.Join(t.TempDir(), "new"), JSON: &js, Markdown: &md}
	if err := Run(context.Background(), opts, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	dec := json.NewDecoder(&js)
	for dec.More() {
		var r Result
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		seen[r.Server+" "+r.Workload] = true
		if len(r.Errors) > 0 {
			t.Errorf("%s: errors %v", r.summary(), r.Errors)
		}
		if (r.Server == "endpoint" || r.Server == "trivial") && r.Clients > 0 && r.Requests == 0 && r.Bytes == 0 && r.Workload != "walk" {
			t.Errorf("%s measured nothing", r.summary())
		}
	}
	for _, w := range []string{"machine md5", "machine sha512", "trivial put", "trivial store", "trivial get", "trivial show", "endpoint seed",
		"endpoint show", "endpoint list-sorted", "endpoint list-tag", "endpoint list-visibility", "endpoint list-name",
		"endpoint list-default-lonely", "endpoint list-sort-name-asc-lonely", "endpoint list-member_status-pending",
		"endpoint list-updated_at-gt-none", "endpoint list-owner-admin",
		"endpoint patch", "endpoint create", "endpoint walk", "endpoint upload", "endpoint download",
		"endpoint rss-idle", "endpoint rss-transfer"} {
		if !seen[w] {
			t.Errorf("no result for %s", w)
		}
	}
	if !strings.Contains(md.String(), "### Targets") || !strings.Contains(md.String(), "| walk of the catalog at limit=1000 |") {
		t.Errorf("markdown report lacks its tables:\n%s", md.String())
	}
	for _, line := range []string{"| trivial Go server show | 8 |", "| show CPU per request vs a trivial Go server's answer of the same record at 8 clients | "} {
		if !strings.Contains(md.String(), line) {
			t.Errorf("markdown report lacks %q:\n%s", line, md.String())
		}
	}
}

// TestRunInterleavesServers runs the benchmark against two servers (a
// second glint stands in for Glance) and holds it to measuring them
// interleaved: each workload at each level of clients on one server, then
// at once on the other (and the trivial server's show right after
// theirs), never one server's whole run and then the other's. It also
// checks that both were prepared before the first timed request, that the
// walk of each comes before the writes, and that the transfers are
// interleaved too, after all of them.
func TestRunInterleavesServers(t *testing.T) {
	first, second := startTrusted(t), startTrusted(t)
	member, admin, sharer, lonely := benchMember, benchAdmin, benchSharer, benchLonely
	var js, md bytes.Buffer
	opts := Options{Endpoint: first.URL, Pid: os.Getpid(), Member: member, Admin: admin, Sharer: sharer, Lonely: lonely,
		WithGlance: true,
		startReference: func(context.Context, string, *slog.Logger) (*target, error) {
			ref := endpointTarget("glance", second.URL, member, admin, os.Getpid())
			ref.sharer, ref.lonely = sharer, lonely
			return ref, nil
		},
		Catalog: 30, Clients: []int{1, 8}, Duration: 50 * time.Millisecond,
		Only:         []string{"show", "list-sorted", "list-default-lonely", "walk", "patch", "create", "transfer"},
		TransferSize: blockSize + 5, ConcurrentSize: blockSize + 1, Concurrent: 2,
		Dir: t.TempDir(), JSON: &js, Markdown: &md}
	if err := Run(context.Background(), opts, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	var got []string
	var results []Result
	dec := json.NewDecoder(&js)
	for dec.More() {
		var r Result
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
		if r.Round != 0 {
			t.Errorf("%s: round %d of one round", r.summary(), r.Round)
		}
		if r.Server == "machine" || (r.Server == "trivial" && r.Workload != "show") {
			continue
		}
		key := r.Server + " " + r.Workload
		if r.Clients > 0 {
			key += fmt.Sprintf(" x%d", r.Clients)
		}
		got = append(got, key)
	}
	var want []string
	for _, s := range []string{"endpoint", "glance"} {
		want = append(want, s+" rss-idle", s+" seed x8")
	}
	for _, w := range []string{"show", "list-sorted", "list-default-lonely", "walk", "patch", "create"} {
		if w == "walk" {
			want = append(want, "endpoint walk x1", "glance walk x1")
			continue
		}
		for _, c := range opts.Clients {
			want = append(want, fmt.Sprintf("endpoint %s x%d", w, c), fmt.Sprintf("glance %s x%d", w, c))
			if w == "show" {
				want = append(want, fmt.Sprintf("trivial show x%d", c))
			}
		}
	}
	for _, w := range []string{"upload x1", "download x1", "upload x2", "download x2", "rss-transfer"} {
		want = append(want, "endpoint "+w, "glance "+w)
	}
	if !slices.Equal(got, want) {
		t.Errorf("results in the order\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// The report is the same as of the results one server after the
	// other, and sets the two side by side.
	serverRank := map[string]int{"machine": 0, "trivial": 1, "endpoint": 2, "glance": 3}
	grouped := slices.Clone(results)
	slices.SortStableFunc(grouped, func(a, b Result) int { return serverRank[a.Server] - serverRank[b.Server] })
	var mdGrouped bytes.Buffer
	writeMarkdown(&mdGrouped, grouped, opts)
	if md.String() != mdGrouped.String() {
		t.Errorf("the report depends on the order the results came in: interleaved\n%s\none server after the other\n%s", md.String(), mdGrouped.String())
	}
	for _, line := range []string{"| endpoint req/s | glance req/s |", "| trivial Go server show | 8 |", "| list-sorted throughput at 8 clients |"} {
		if !strings.Contains(md.String(), line) {
			t.Errorf("markdown report lacks %q:\n%s", line, md.String())
		}
	}
}

// TestRunRounds runs the request workloads twice and holds the run to
// every round of the reads before the walk and every round of the writes
// after it (the writes grow the catalog), each result carrying its round,
// and the report to one row per workload: the median of the rounds.
func TestRunRounds(t *testing.T) {
	ts := startTrusted(t)
	var js, md bytes.Buffer
	opts := Options{Endpoint: ts.URL, Pid: os.Getpid(),
		Member:  benchMember,
		Admin:   benchAdmin,
		Catalog: 10, Clients: []int{2}, Duration: 50 * time.Millisecond, Rounds: 2,
		Only: []string{"show", "list-sorted", "walk", "patch"}, Dir: t.TempDir(), JSON: &js, Markdown: &md}
	if err := Run(context.Background(), opts, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(js.String()), "\n") {
		var r Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.Clients == 0 || r.Workload == "seed" {
			continue
		}
		if r.Round > 0 != strings.Contains(line, `"round":`) || (r.Round == 0) != (r.Workload == "walk") {
			t.Errorf("%s: round %d", line, r.Round)
		}
		got = append(got, fmt.Sprintf("%s %s r%d", r.Server, r.Workload, r.Round))
	}
	want := []string{"endpoint show r1", "trivial show r1", "endpoint list-sorted r1",
		"endpoint show r2", "trivial show r2", "endpoint list-sorted r2",
		"endpoint walk r0", "endpoint patch r1", "endpoint patch r2"}
	if !slices.Equal(got, want) {
		t.Errorf("results in the order\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if n := strings.Count(md.String(), "| list-sorted | 2 |"); n != 1 || !strings.Contains(md.String(), "median of 2 rounds") {
		t.Errorf("the report has %d rows of list-sorted at 2 clients, want 1 (the median):\n%s", n, md.String())
	}
}

// TestMedianOfRounds holds the report's median to each workload's own
// rounds: two workloads of one name (list-name is an older workload and a
// shape) are kept apart, and results of no round stand as they are.
func TestMedianOfRounds(t *testing.T) {
	r := func(workload string, round int, cpu float64, errs map[string]int) Result {
		return Result{Server: "glint", Workload: workload, Clients: 8, Round: round, CPUms: cpu, ReqPerSec: 1000 / cpu, Errors: errs}
	}
	in := []Result{
		{Server: "glint", Workload: "startup", Seconds: 0.1},
		r("list-name", 1, 1, nil), r("list-name", 1, 10, nil), r("show", 1, 0.2, nil),
		r("list-name", 2, 3, map[string]int{"500": 1}), r("list-name", 2, 30, nil), r("show", 2, 0.1, nil),
		r("list-name", 3, 2, map[string]int{"500": 2}), r("list-name", 3, 20, nil), r("show", 3, 0.3, nil),
		{Server: "glint", Workload: "walk", Clients: 1, Seconds: 0.05},
	}
	got := medianOfRounds(in)
	want := []string{"startup 0", "list-name 2", "list-name 20", "show 0.2", "walk 0"}
	var have []string
	for _, g := range got {
		have = append(have, fmt.Sprintf("%s %g", g.Workload, g.CPUms))
		if g.Round != 0 {
			t.Errorf("%s kept round %d", g.Workload, g.Round)
		}
	}
	if !slices.Equal(have, want) {
		t.Fatalf("medians %v, want %v", have, want)
	}
	if got[1].ReqPerSec != 1000.0/2 || got[1].Errors["500"] != 3 || got[2].Errors != nil {
		t.Errorf("list-name: %v req/s, errors %v and %v; want 500 req/s, 3 × 500 and none", got[1].ReqPerSec, got[1].Errors, got[2].Errors)
	}
	if got[0].Seconds != 0.1 || got[4].Seconds != 0.05 {
		t.Errorf("results of no round changed: %+v %+v", got[0], got[4])
	}
}

// cancelOn is a JSON sink that cancels the run when a result line holds
// the text given.
type cancelOn struct {
	text   string
	cancel context.CancelFunc
}

func (c cancelOn) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte(c.text)) {
		c.cancel()
	}
	return len(b), nil
}

// TestRunStopsEveryServerWhenCancelled cancels a run in the middle of
// the interleaved request workloads, when both servers are up, and holds
// it to stopping both (the first before the second was prepared would
// not do: all stay up until the end).
func TestRunStopsEveryServerWhenCancelled(t *testing.T) {
	ts := startTrusted(t)
	member, admin := benchMember, benchAdmin
	stopped := 0
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := Options{Endpoint: ts.URL, Member: member, Admin: admin, WithGlance: true,
		startReference: func(context.Context, string, *slog.Logger) (*target, error) {
			ref := endpointTarget("glance", ts.URL, member, admin, 0)
			ref.stop = func() { stopped++ }
			return ref, nil
		},
		Catalog: 10, Clients: []int{1, 2}, Duration: 50 * time.Millisecond, Only: []string{"show"},
		Dir: t.TempDir(), JSON: cancelOn{`"server":"glance","workload":"show","clients":1`, cancel}}
	err := Run(ctx, opts, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want it cancelled", err)
	}
	if stopped != 1 {
		t.Fatalf("the second server was stopped %d times, want once", stopped)
	}
}

// TestMain lets the test binary stand in for glint when the benchmark
// runs itself as `glint bench trivial-server` (startTrivial does).
func TestMain(m *testing.M) {
	if len(os.Args) == 7 && os.Args[1] == "bench" && os.Args[2] == "trivial-server" {
		if err := ServeTrivial(context.Background(), os.Args[4], os.Args[6]); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
