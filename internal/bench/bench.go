// Package bench is glint's benchmark: it drives any Image API v2 endpoint
// (glint, Glance, or both side by side) with the same workloads, measures
// the server's CPU and memory from /proc, and compares the figures with
// the machine's own limits and with the targets glint is held to.
package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Options say what to run against what.
type Options struct {
	// Endpoint, when set, is an Image API to drive instead of starting
	// glint; Member (and Admin, for public images) say who calls it and
	// Pid which process serves it (for CPU and memory; 0 for none).
	// Sharer, a second project, shares images with the Member's project
	// (whose trusted X-Project-Id must then be set); Lonely is a project
	// with no images. Either may be left out (nil Headers): then the
	// member owns the shared images and has none shared with it, or the
	// lonely caller's listings are not run.
	Endpoint      string
	Member, Admin Identity
	Sharer        Identity
	Lonely        Identity
	Pid           int

	// GlintConfig is a configuration file for the glint the benchmark
	// starts (e.g. PostgreSQL + S3); empty for the embedded default.
	GlintConfig string
	// WithGlance starts Debian's glance-api too (installing it when
	// missing) and runs the same workloads against it.
	WithGlance bool

	Catalog int // images seeded before the request workloads
	// SeedDirect seeds the catalog into the SQLite store of the glint the
	// benchmark starts before it starts (imagetest's catalog, in
	// batches), not through the API: large catalogs in minutes. Only for
	// the embedded default; the other servers are seeded by the API.
	SeedDirect bool
	Clients    []int         // concurrency levels of the request workloads
	Duration   time.Duration // per workload and level
	// Settle writes back the machine's dirty pages (sync(2)) before
	// each measurement of a server, so that none pays for the writes of
	// the measurement before it (another server's, interleaved).
	Settle bool
	// Rounds repeats the request workloads (0 or 1: once); the report
	// and the targets take the median of the rounds, and each JSON
	// result of a request workload carries its round.
	Rounds int
	// TransferSize is the single upload and download; the concurrent
	// transfers are Concurrent streams of ConcurrentSize each.
	TransferSize, ConcurrentSize int64
	Concurrent                   int
	// Only, when not empty, names the workloads to run (prefixes:
	// "list" runs every list workload, "transfer" all transfers).
	Only []string

	// startReference, when set, stands in for startGlance (tests: a
	// second server to interleave with).
	startReference func(ctx context.Context, dir string, log *slog.Logger) (*target, error)

	// Dir holds the servers' data; a temporary directory when empty.
	Dir string
	// JSON receives one result per line; Markdown the tables.
	JSON, Markdown io.Writer
}

// Defaults are the workloads of docs/benchmarks.md.
func Defaults() Options {
	return Options{Catalog: 10000, Clients: []int{1, 8, 32}, Duration: 5 * time.Second,
		TransferSize: 1 << 30, ConcurrentSize: 256 << 20, Concurrent: 4, Settle: true}
}

// settle writes back the machine's dirty pages when o.Settle: the
// server measured next must not pay for the write-back of the one
// measured before it (run S9: glint's writes right after Glance's cost
// up to 1.4× what they did alone).
func (o Options) settle() {
	if o.Settle {
		syscall.Sync()
	}
}

func (o Options) runs(workload string) bool {
	if len(o.Only) == 0 {
		return true
	}
	for _, w := range o.Only {
		if strings.HasPrefix(workload, w) || (w == "transfer" && isTransfer(workload)) {
			return true
		}
	}
	return false
}

func isTransfer(w string) bool {
	return strings.HasPrefix(w, "upload") || strings.HasPrefix(w, "download")
}

// Run runs the benchmark and writes its results.
func Run(ctx context.Context, opts Options, log *slog.Logger) error {
	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "glint-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		// A directory given may be new: every step writes beneath it.
		return err
	}
	var results []Result
	var jsonErr error // the first failure to write a JSON result
	emit := func(rs ...Result) {
		for _, r := range rs {
			results = append(results, r)
			if opts.JSON != nil && jsonErr == nil {
				if err := r.writeJSON(opts.JSON); err != nil {
					jsonErr = fmt.Errorf("writing the JSON results: %w", err)
				}
			}
			log.Info("result", "line", r.summary())
		}
	}

	transfers := slices.ContainsFunc([]string{"upload", "download"}, opts.runs)
	var one, each digests
	if transfers {
		log.Info("hashing the transfer pattern (md5 and sha512 cost of this machine)")
		var cost hashCost
		one, cost = patternDigests(opts.TransferSize)
		each, _ = patternDigests(opts.ConcurrentSize)
		emit(hashResults(cost)...)
		log.Info("measuring a trivial Go server (loopback PUT and sendfile GET)")
		limits, err := machineLimits(ctx, dir, one)
		if err != nil {
			return fmt.Errorf("machine limits: %w", err)
		}
		emit(limits...)
	}

	starts := serverStarts(ctx, dir, opts, log)

	// Every server is started and prepared before any timed request, and
	// all stay up until the end: the request workloads then run against
	// each in turn, so that each ratio compares figures taken seconds
	// apart (this machine's speed drifts by up to 1.5× over an hour).
	var servers []*server
	defer func() {
		for _, s := range servers {
			s.close()
		}
	}()
	requests := slices.ContainsFunc([]string{"show", "list", "patch", "create", "walk"}, opts.runs)
	for _, start := range starts {
		t, err := start()
		if err != nil {
			return err
		}
		s := newServer(t, opts)
		servers = append(servers, s)
		log.Info("preparing", "server", t.name, "url", t.base)
		if err := s.prepare(ctx, opts, requests, log, emit); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	if requests {
		if opts.runs("show") {
			ys, err := startTrivialShow(ctx, dir, opts)
			if err != nil {
				return fmt.Errorf("trivial show: %w", err)
			}
			servers = append(servers, ys)
		}
		if err := runRequests(ctx, servers, opts, log, emit); err != nil {
			return err
		}
	}
	if transfers {
		log.Info("transferring")
		if err := runTransfers(ctx, servers, opts, one, each, emit); err != nil {
			return err
		}
	}
	if opts.Markdown != nil {
		writeMarkdown(opts.Markdown, results, opts)
	}
	return jsonErr
}

// serverStarts are the starts of the servers under test, in the order
// they are measured: glint (or the endpoint given), then Glance.
func serverStarts(ctx context.Context, dir string, opts Options, log *slog.Logger) []func() (*target, error) {
	var starts []func() (*target, error)
	if opts.Endpoint != "" {
		starts = append(starts, func() (*target, error) {
			t := endpointTarget("endpoint", opts.Endpoint, opts.Member, opts.Admin, opts.Pid)
			t.sharer, t.lonely = opts.Sharer, opts.Lonely
			return t, nil
		})
	} else {
		starts = append(starts, func() (*target, error) {
			if opts.SeedDirect && opts.GlintConfig == "" {
				log.Info("seeding glint's store directly", "images", opts.Catalog)
				if err := seedDirect(ctx, dir, opts.Catalog); err != nil {
					return nil, err
				}
			}
			t, err := startGlint(ctx, dir, opts.GlintConfig)
			if err == nil && opts.SeedDirect && opts.GlintConfig == "" {
				t.seeded = opts.Catalog
			}
			return t, err
		})
	}
	if opts.WithGlance {
		startRef := opts.startReference
		if startRef == nil {
			startRef = startGlance
		}
		starts = append(starts, func() (*target, error) { return startRef(ctx, dir, log) })
	}
	return starts
}

// server is one server under test with what the benchmark prepared on
// it: its callers, its catalog and its request workloads.
type server struct {
	t   *target
	cs  callers
	cat *catalog // nil until seeded
	// keys are its request workloads in the order they run, each as
	// setWorkloads keys it; fns the workloads by key.
	keys []string
	fns  map[string]op
	// yardstick is the trivial server: it answers the show workload
	// only, and takes no walk and no transfers.
	yardstick bool
}

// newServer makes the callers of the workloads on t.
func newServer(t *target, opts Options) *server {
	width := slices.Max(opts.Clients)
	// Every caller keeps as many connections as the most clients that
	// run as it, so no listing pays for new connections.
	cs := callers{member: newClient(t.base, t.member, max(width, opts.Concurrent)),
		admin: newClient(t.base, t.admin, max(width, 8))}
	if t.sharer.Headers != nil {
		cs.sharer = newClient(t.base, t.sharer, 8)
	}
	if t.lonely.Headers != nil {
		cs.lonely = newClient(t.base, t.lonely, width)
	}
	return &server{t: t, cs: cs}
}

// close drops the server's connections and stops it.
func (s *server) close() {
	s.cs.close()
	s.t.stop()
}

// setWorkloads keys ws by name and occurrence: two workloads may share a
// name (list-name and list-tag are both an older workload and a shape of
// package catalog), and are still run apart.
func (s *server) setWorkloads(ws []workload) {
	s.fns = map[string]op{}
	seen := map[string]int{}
	for _, w := range ws {
		key := fmt.Sprintf("%s#%d", w.name, seen[w.name])
		seen[w.name]++
		s.keys = append(s.keys, key)
		s.fns[key] = w.fn
	}
}

// workloadName is the name of the workload a key of setWorkloads names.
func workloadName(key string) string {
	name, _, _ := strings.Cut(key, "#")
	return name
}

// prepare emits the server's startup time and idle memory and, when
// request workloads are to run, seeds its catalog and walks it once.
func (s *server) prepare(ctx context.Context, opts Options, requests bool, log *slog.Logger, emit func(...Result)) error {
	t := s.t
	if t.startup > 0 {
		emit(Result{Server: t.name, Workload: "startup", Seconds: t.startup.Seconds()})
	}
	if t.tree != nil {
		emit(Result{Server: t.name, Workload: "rss-idle", RSSMiB: mib(t.tree.RSS())})
	}
	if !requests {
		return nil
	}
	if t.seeded > 0 {
		s.cat = directCatalog(t.seeded)
	} else {
		log.Info("seeding the catalog", "server", t.name, "images", opts.Catalog)
		m := startMeter(t.tree)
		c, requests, err := seed(ctx, s.cs, opts.Catalog, 8)
		if err != nil {
			return err
		}
		wall, cpu := m.stop()
		emit(requestResult(t.name, "seed", 8, load{requests: requests}, wall, cpu))
		s.cat = c
	}
	if opts.runs("show") || opts.runs("list") {
		// The timed requests measure a server that has been up a
		// while: one untimed walk first, as a client listing the
		// catalog would. Straight after seeding, glint's record
		// cache holds none of the images, and the first timed
		// level paid for loading them all (run S6: a show at 8
		// clients 0.247 ms, at 32 clients after it 0.142).
		log.Info("warming up: one walk of the catalog, untimed", "server", t.name)
		if _, err := walk(ctx, s.cs.member, 1000); err != nil {
			return fmt.Errorf("warm-up walk: %w", err)
		}
	}
	s.setWorkloads(requestWorkloads(s.cs, s.cat))
	return nil
}

// runRequests runs the request workloads against every server in turn:
// each workload at each level of clients runs on one server, then on the
// next, before the next level or workload. A slow stretch of this
// machine then lands on both sides of a ratio, not on one server's whole
// run. With rounds, every round of the reads (show and the listings)
// runs before the walk and every round of the writes after it: the
// writes grow the catalog the reads and the walk are of.
func runRequests(ctx context.Context, servers []*server, opts Options, log *slog.Logger, emit func(...Result)) error {
	keys := runOrder(servers)
	writes := slices.Index(keys, "patch#0")
	if writes < 0 {
		writes = len(keys)
	}
	rounds := max(opts.Rounds, 1)
	for round := 1; round <= rounds; round++ {
		if err := runRound(ctx, servers, keys[:writes], round, opts, log, emit); err != nil {
			return err
		}
	}
	if opts.runs("walk") {
		for _, s := range servers {
			if s.yardstick {
				continue
			}
			opts.settle()
			r, err := walkResult(ctx, s.t, s.cs.member, len(s.cat.all))
			if err != nil {
				return fmt.Errorf("%s: %w", s.t.name, err)
			}
			emit(r)
		}
	}
	for round := 1; round <= rounds; round++ {
		if err := runRound(ctx, servers, keys[writes:], round, opts, log, emit); err != nil {
			return err
		}
	}
	return nil
}

// runRound runs the workloads keys name, each at every level of clients
// on every server that has it, once; round is the result's round when
// there are several.
func runRound(ctx context.Context, servers []*server, keys []string, round int, opts Options, log *slog.Logger, emit func(...Result)) error {
	for _, key := range keys {
		name := workloadName(key)
		if !opts.runs(name) {
			continue
		}
		log.Info("measuring", "workload", name, "round", round)
		for _, c := range opts.Clients {
			for _, s := range servers {
				fn := s.fns[key]
				if fn == nil {
					continue // a caller this server was not given
				}
				opts.settle()
				m := startMeter(s.t.tree)
				l := runLoad(ctx, c, opts.Duration, fn)
				wall, cpu := m.stop()
				r := requestResult(s.t.name, name, c, l, wall, cpu)
				if opts.Rounds > 1 {
					r.Round = round
				}
				emit(r)
				if err := ctx.Err(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// runOrder is the order of the request workloads over all servers: that
// of the server with the most (every server's are requestWorkloads'
// order less those of callers it lacks).
func runOrder(servers []*server) []string {
	var keys []string
	for _, s := range servers {
		if len(s.keys) > len(keys) {
			keys = s.keys
		}
	}
	return keys
}

// workload is one named request workload.
type workload struct {
	name string
	fn   op
}

// walkResult times three walks of the whole catalog at limit=1000 and
// keeps the median.
func walkResult(ctx context.Context, t *target, c *client, want int) (Result, error) {
	var walls []time.Duration
	var cpus []time.Duration
	seenAll := 0
	for range 3 {
		m := startMeter(t.tree)
		seen, err := walk(ctx, c, 1000)
		if err != nil {
			return Result{}, fmt.Errorf("walk: %w", err)
		}
		if seen < want {
			return Result{}, fmt.Errorf("walk saw %d images, the catalog has %d", seen, want)
		}
		wall, cpu := m.stop()
		walls, cpus, seenAll = append(walls, wall), append(cpus, cpu), seen
	}
	slices.Sort(walls)
	slices.Sort(cpus)
	r := Result{Server: t.name, Workload: "walk", Clients: 1, Seconds: walls[1].Seconds(), Images: seenAll}
	if cpus[1] >= 0 {
		r.CPUSeconds = cpus[1].Seconds()
	}
	return r, nil
}

// serverTransfers is one server's part of the transfers: the images its
// uploads made (for the downloads and the clean-up) and its peak memory.
type serverTransfers struct {
	s    *server
	peak *peakSampler // nil when its process is not known
	one  string       // the single upload's image
	many []string     // the concurrent uploads' images
}

// transferStep is one upload or download, run on every server in turn.
type transferStep struct {
	name    string
	streams int
	bytes   int64
	run     func(ctx context.Context, st *serverTransfers) error
}

// runTransfers uploads and downloads the pattern, alone and several at
// once, on every server (not the yardstick): each step on one server,
// then straight away on the next, as the request workloads run. Each
// server's peak memory is sampled throughout.
func runTransfers(ctx context.Context, servers []*server, opts Options, one, each digests, emit func(...Result)) error {
	var sts []*serverTransfers
	defer func() {
		for _, st := range sts {
			st.cleanUp(ctx)
		}
	}()
	for _, s := range servers {
		if s.yardstick {
			continue
		}
		st := &serverTransfers{s: s}
		if s.t.tree != nil {
			st.peak = samplePeak(*s.t.tree, 50*time.Millisecond)
		}
		sts = append(sts, st)
	}
	n := opts.Concurrent
	steps := []transferStep{
		{"upload", 1, one.size, func(ctx context.Context, st *serverTransfers) (err error) {
			st.one, err = upload(ctx, st.s.cs.member, one, "bench-upload")
			return err
		}},
		{"download", 1, one.size, func(ctx context.Context, st *serverTransfers) error {
			return download(ctx, st.s.cs.member, st.one, one)
		}},
		{"upload", n, int64(n) * each.size, func(ctx context.Context, st *serverTransfers) error {
			st.many = make([]string, n)
			return parallel(ctx, n, n, func(ctx context.Context, i int) (err error) {
				st.many[i], err = upload(ctx, st.s.cs.member, each, fmt.Sprintf("bench-upload-%d", i))
				return err
			})
		}},
		{"download", n, int64(n) * each.size, func(ctx context.Context, st *serverTransfers) error {
			return parallel(ctx, n, n, func(ctx context.Context, i int) error {
				return download(ctx, st.s.cs.member, st.many[i], each)
			})
		}},
	}
	for _, step := range steps {
		for _, st := range sts {
			t := st.s.t
			opts.settle()
			m := startMeter(t.tree)
			if err := step.run(ctx, st); err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			wall, cpu := m.stop()
			emit(transferResult(t.name, step.name, step.streams, step.bytes, wall, cpu))
		}
	}
	for _, st := range sts {
		if st.peak != nil {
			emit(Result{Server: st.s.t.name, Workload: "rss-transfer", RSSMiB: mib(st.peak.Stop())})
			st.peak = nil
		}
	}
	return nil
}

// cleanUp stops the peak sampler if it still runs and deletes the
// images the uploads made, best effort: the results stand either way.
func (st *serverTransfers) cleanUp(ctx context.Context) {
	if st.peak != nil {
		st.peak.Stop()
	}
	for _, id := range append([]string{st.one}, st.many...) {
		if id != "" {
			_ = st.s.cs.member.deleteImage(context.WithoutCancel(ctx), id)
		}
	}
}
