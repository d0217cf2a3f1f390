package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"golang.org/x/sync/errgroup"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/server"
)

// The request benchmarks call the API handler in-process (no sockets), so
// what they measure is glint's own work per request: routing, policy,
// SQLite and JSON. The catalog is the one glint bench seeds (a tenth
// public, tags t0..t49), built once per size and shared by the benchmarks.
//
//	go test -run X -bench Requests -benchtime 2000x ./internal/api/
//
// With GLINT_BENCH_OPS=1 (and GLINT_TEST_RABBITMQ_URL) every benchmark also
// runs as NAME-metrics on a catalog served with metrics on, and as NAME-ops
// with metrics on and notifications published to RabbitMQ, so one run
// gives the overhead of each as a ratio (docs/benchmarks.md).
type benchCatalog struct {
	// variant is "", "-metrics" or "-ops".
	variant string
	once    sync.Once
	h       http.Handler
	srv     *server.Server
	cfg     config.Config
	ids     []string
	err     error
}

func benchHeaders(req *http.Request, admin bool) {
	req.Header.Set("X-Project-Id", "bench-project")
	req.Header.Set("X-User-Id", "bench-user")
	req.Header.Set("X-Roles", "member,reader")
	if admin {
		req.Header.Set("X-Project-Id", "bench-admin")
		req.Header.Set("X-Roles", "admin")
	}
}

// catalogOf seeds the catalog of n images on first use; parent owns its
// directory and server, so they outlive the sub-benchmarks that share it.
func catalogOf(b, parent *testing.B, c *benchCatalog, n int) *benchCatalog {
	c.once.Do(func() {
		cfg := config.Default()
		cfg.DataDir = parent.TempDir()
		cfg.Auth = config.AuthTrustedHeaders
		if c.variant == "-metrics" || c.variant == "-ops" {
			cfg.MetricsListen = "127.0.0.1:0"
		}
		if c.variant == "-ops" {
			opsConfig(parent, &cfg)
		}
		if c.variant == "-nocache" {
			cfg.Metadata.RecordCache = 0
		}
		srv, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			c.err = err
			return
		}
		parent.Cleanup(func() { srv.Close() })
		c.h, c.srv, c.cfg = srv.Handler(), srv, cfg
		c.ids = make([]string, n)
		var g errgroup.Group
		g.SetLimit(8)
		for i := range n {
			g.Go(func() error {
				vis := map[int]string{0: "public", 1: "community", 2: "shared", 3: "shared", 4: "shared"}[i%10]
				if vis == "" {
					vis = "private"
				}
				body := fmt.Sprintf(`{"name":"bench-%06d","disk_format":"raw","container_format":"bare",`+
					`"visibility":%q,"tags":["bench","t%d"],"bench_group":"%d","bench_counter":"0"}`, i, vis, i%50, i%100)
				req := httptest.NewRequest("POST", "/v2/images", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				benchHeaders(req, vis == "public")
				rec := httptest.NewRecorder()
				c.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusCreated {
					return fmt.Errorf("seed: %d %s", rec.Code, rec.Body)
				}
				var img struct{ ID string }
				if err := json.Unmarshal(rec.Body.Bytes(), &img); err != nil {
					return err
				}
				c.ids[i] = img.ID
				return nil
			})
		}
		c.err = g.Wait()
		if c.err == nil && c.variant == "-ops" {
			// Measure the steady state: the seeding's notifications
			// published and the outbox drained first.
			c.err = waitPublished(cfg, n)
			if c.err == nil {
				c.err = waitDrained(srv)
			}
		}
	})
	if c.err != nil {
		b.Fatal(c.err)
	}
	return c
}

// BenchmarkWrites are the write requests of glint bench, in process: a
// JSON-patch of one property, a create and a delete, one at a time and (-c8)
// from 8 clients at once, where the record store's group commit lets
// concurrent writes share a commit.
func BenchmarkWrites(b *testing.B) {
	parentB := b
	type write struct {
		name   string
		method string
		path   func(i int, c *benchCatalog) string
		ctype  string
		body   func(i int) string
		status int
	}
	patch := write{"patch", "PATCH", func(i int, c *benchCatalog) string {
		j := (i * 7919) % len(c.ids)
		if j%10 == 0 { // the public tenth is the admin project's
			j++
		}
		return "/v2/images/" + c.ids[j]
	},
		"application/openstack-images-v2.1-json-patch",
		func(i int) string {
			return `[{"op":"replace","path":"/bench_counter","value":"` + strconv.Itoa(i) + `"}]`
		}, http.StatusOK}
	create := write{"create", "POST", func(int, *benchCatalog) string { return "/v2/images" }, "application/json",
		func(i int) string {
			return `{"name":"bench-new-` + strconv.Itoa(i) + `","disk_format":"raw","container_format":"bare","tags":["bench-new"]}`
		}, http.StatusCreated}
	var doomed []string // images the delete benchmark deletes, made beforehand
	del := write{"delete", "DELETE", func(i int, c *benchCatalog) string { return "/v2/images/" + doomed[i] }, "", func(int) string { return "" },
		http.StatusNoContent}
	do := func(b *testing.B, c *benchCatalog, w write, i int) {
		req := httptest.NewRequest(w.method, w.path(i, c), strings.NewReader(w.body(i)))
		if w.ctype != "" {
			req.Header.Set("Content-Type", w.ctype)
		}
		benchHeaders(req, false)
		rec := httptest.NewRecorder()
		c.h.ServeHTTP(rec, req)
		if rec.Code != w.status {
			b.Fatalf("%s %s: %d %s", w.method, req.URL, rec.Code, rec.Body)
		}
	}
	measure := func(b *testing.B) func() {
		b.ReportAllocs()
		b.ResetTimer()
		cpu0, wchar0 := processCPU(), wchar()
		return func() {
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(wchar()-wchar0)/float64(b.N), "wchar-B/op")
		}
	}
	for _, v := range benchVariants() {
		cat := &benchCatalog{variant: v}
		for _, w := range []write{patch, create} {
			b.Run(w.name+v, func(b *testing.B) {
				c := catalogOf(b, parentB, cat, 2000)
				defer measure(b)()
				for i := range b.N {
					do(b, c, w, i)
				}
			})
		}
		// A patch of a shared image with 50 members: what the copies of
		// an image's sort keys in its memberships (migration 00029, kept
		// by triggers) add to a write that changes updated_at.
		b.Run("patch-members-50"+v, func(b *testing.B) {
			c := catalogOf(b, parentB, cat, 2000)
			id := c.ids[2] // i%10 == 2: shared, bench-project's
			for k := range 50 {
				req := httptest.NewRequest("POST", "/v2/images/"+id+"/members",
					strings.NewReader(`{"member":"bench-member-`+strconv.Itoa(k)+`"}`))
				req.Header.Set("Content-Type", "application/json")
				benchHeaders(req, false)
				rec := httptest.NewRecorder()
				c.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK && rec.Code != http.StatusConflict { // 409: added by an earlier run of b.N
					b.Fatalf("add member: %d %s", rec.Code, rec.Body)
				}
			}
			shared := patch
			shared.path = func(int, *benchCatalog) string { return "/v2/images/" + id }
			defer measure(b)()
			for i := range b.N {
				do(b, c, shared, i)
			}
		})
		b.Run("delete"+v, func(b *testing.B) {
			c := catalogOf(b, parentB, cat, 2000)
			doomed = doomed[:0]
			for i := range b.N {
				req := httptest.NewRequest("POST", "/v2/images", strings.NewReader(`{"name":"doomed-`+strconv.Itoa(i)+`"}`))
				req.Header.Set("Content-Type", "application/json")
				benchHeaders(req, false)
				rec := httptest.NewRecorder()
				c.h.ServeHTTP(rec, req)
				var img struct{ ID string }
				if err := json.Unmarshal(rec.Body.Bytes(), &img); err != nil || rec.Code != http.StatusCreated {
					b.Fatalf("create: %d %s", rec.Code, rec.Body)
				}
				doomed = append(doomed, img.ID)
			}
			// Let the setup's background work end first, in every
			// variant: its notifications (settle), the statistics
			// refresh its creations start (one per 1000).
			if err := c.settle(); err != nil {
				b.Fatal(err)
			}
			time.Sleep(time.Second)
			defer measure(b)()
			for i := range b.N {
				do(b, c, del, i)
			}
		})
		for _, w := range []write{patch, create} {
			b.Run(w.name+"-c8"+v, func(b *testing.B) {
				c := catalogOf(b, parentB, cat, 2000)
				var next atomic.Int64
				b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
				defer measure(b)()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						do(b, c, w, int(next.Add(1)))
					}
				})
			})
		}
	}
}

// BenchmarkRequests measures show and every listing shape. With
// GLINT_BENCH_RECORDS=1 each also runs as NAME-nocache, on a catalog of
// its own served without the record cache (metadata.record_cache 0),
// interleaved with NAME so that one run compares the two.
func BenchmarkRequests(b *testing.B) {
	variants := benchVariants()
	if os.Getenv("GLINT_BENCH_RECORDS") != "" {
		variants = append(variants, "-nocache")
	}
	const n = 10000
	cats := map[string]*benchCatalog{}
	for _, v := range variants {
		cats[v] = &benchCatalog{variant: v}
		// Seeded before anything is measured, and then left to finish
		// the background work seeding starts (statistics refreshes,
		// checkpoints): the CPU measured is the whole process's.
		catalogOf(b, b, cats[v], n)
	}
	time.Sleep(3 * time.Second)
	paths := []struct {
		name string
		path func(i int, c *benchCatalog) string
	}{
		{"show", func(i int, c *benchCatalog) string { return "/v2/images/" + c.ids[i%len(c.ids)] }},
		{"list-default", func(int, *benchCatalog) string { return "/v2/images?limit=25" }},
		{"list-sorted", func(int, *benchCatalog) string { return "/v2/images?limit=25&sort_key=name&sort_dir=asc" }},
		{"list-tag", func(i int, _ *benchCatalog) string { return "/v2/images?limit=25&tag=t" + strconv.Itoa(i%50) }},
		{"list-visibility", func(int, *benchCatalog) string { return "/v2/images?limit=25&visibility=public" }},
		{"list-name", func(i int, c *benchCatalog) string {
			return fmt.Sprintf("/v2/images?limit=25&name=bench-%06d", i%len(c.ids))
		}},
		{"list-1000", func(int, *benchCatalog) string { return "/v2/images?limit=1000" }},
	}
	// Every other list shape of glint bench (issue 14).
	for _, q := range []struct{ name, query string }{
		{"list-sort-status", "sort_key=status&sort_dir=asc"},
		{"list-sort-size", "sort=size:desc"},
		{"list-sort-updated_at", "sort=updated_at:asc"},
		{"list-sort-id", "sort_key=id"},
		{"list-sort-name,size", "sort=name:asc,size:desc"},
		{"list-visibility-all", "visibility=all"},
		{"list-visibility-shared", "visibility=shared&member_status=all"},
		{"list-owner", "owner=bench-project"},
		{"list-status", "status=active"},
		{"list-in-disk_format", "disk_format=in:raw,qcow2"},
		{"list-size_max", "size_max=1073741824"},
		{"list-tags-2", "tag=t7&tag=bench"},
		{"list-property", "bench_group=7"},
		{"list-os_hidden", "os_hidden=true"},
		{"list-default-admin", "sort_dir=desc"},
		{"list-sort-name-admin", "sort_key=name&sort_dir=asc"},
	} {
		paths = append(paths, struct {
			name string
			path func(i int, c *benchCatalog) string
		}{q.name, func(int, *benchCatalog) string { return "/v2/images?limit=25&" + q.query }})
	}
	// show again last: on a loaded machine one figure of the
	// baseline the listings are divided by is not enough.
	paths = append(paths, struct {
		name string
		path func(i int, c *benchCatalog) string
	}{"show-again", paths[0].path})
	for _, p := range paths {
		for _, v := range variants {
			parentB := b
			b.Run(fmt.Sprintf("%s/%d%s", p.name, n, v), func(b *testing.B) {
				c := catalogOf(b, parentB, cats[v], n)
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := processCPU()
				defer func() { b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op") }()
				for i := range b.N {
					req := httptest.NewRequest("GET", p.path(i, c), nil)
					benchHeaders(req, strings.HasSuffix(p.name, "-admin"))
					rec := httptest.NewRecorder()
					c.h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("%s: %d %s", req.URL, rec.Code, rec.Body)
					}
				}
			})
		}
	}
}

// processCPU is the CPU time this process has used: on a shared machine it
// says more about the cost of a request than the wall clock does.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// settle waits, with notifications on, until what was written so far is
// published and gone from the outbox, so that a benchmark does not pay
// for the relay's work on its setup.
func (c *benchCatalog) settle() error {
	if c.variant != "-ops" {
		return nil
	}
	return waitDrained(c.srv)
}

// wchar is the number of bytes this process has written (the database's
// journal, the broker's sockets).
func wchar() int64 {
	b, _ := os.ReadFile("/proc/self/io")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// waitPublished waits until the benchmark's queue holds n notifications.
func waitPublished(cfg config.Config, n int) error {
	conn, err := amqp.Dial(cfg.Notifications.TransportURL)
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		q, err := ch.QueueDeclarePassive(cfg.Notifications.Topics[0]+".info", false, false, false, false, nil)
		if err == nil && q.Messages >= n {
			return nil
		}
		if err != nil {
			if ch, err = conn.Channel(); err != nil {
				return err
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the seeding's notifications were not published within 2 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitDrained waits until the outbox is empty (published and deleted),
// as the metrics listener reports it.
func waitDrained(srv *server.Server) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		rec := httptest.NewRecorder()
		srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if strings.Contains(rec.Body.String(), "\nglint_notification_outbox_backlog 0\n") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the outbox did not drain within 2 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// benchVariants are the name suffixes to run: "" always, "-metrics" and
// "-ops" with GLINT_BENCH_OPS set. (The metrics listener itself only runs
// in Server.Run; metrics_listen turns on the registry and every
// instrumented seam.)
func benchVariants() []string {
	if os.Getenv("GLINT_BENCH_OPS") == "" {
		return []string{""}
	}
	return []string{"", "-metrics", "-ops"}
}

// opsConfig turns on notifications to the test broker, on an exchange and
// queue of the benchmark's own, deleted afterwards.
func opsConfig(b *testing.B, cfg *config.Config) {
	url := os.Getenv("GLINT_TEST_RABBITMQ_URL")
	if url == "" {
		b.Fatal("GLINT_BENCH_OPS needs GLINT_TEST_RABBITMQ_URL")
	}
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	cfg.Notifications.TransportURL = url
	cfg.Notifications.Exchange = "glance-bench-" + suffix
	cfg.Notifications.Topics = []string{"notifications-bench-" + suffix}
	b.Cleanup(func() {
		conn, err := amqp.Dial(url)
		if err != nil {
			return
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			return
		}
		for _, p := range []string{"info", "error"} {
			ch.QueueDelete(cfg.Notifications.Topics[0]+"."+p, false, false, false)
		}
		ch.ExchangeDelete(cfg.Notifications.Exchange, false, false)
	})
}
