package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/glint-image/glint/internal/requestid"
)

// ServeTrivial is the yardstick for transfers and small requests: the
// least an HTTP server in Go can do to take a PUT (read and drop the
// body), to store one (write it to a file and fsync it, as an upload
// must), to serve a GET of a file (io.Copy from an *os.File, which
// net/http turns into sendfile), and to answer a show (GET /record: an
// image record of glint's, with the headers glint sends). `glint bench
// trivial-server` runs it in a process of its own, so its CPU is measured
// like a real server's.
func ServeTrivial(ctx context.Context, addr, file string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /record", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", recordLength)
		// A fresh id for every answer, made as glint makes its own.
		h.Set(requestid.Header, "req-"+uuid.NewString())
		_, _ = w.Write(record) // a failed write shows to the client as a short body
	})
	mux.HandleFunc("PUT /sink", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // a sink: only the time it takes counts
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("PUT /store", func(w http.ResponseWriter, r *http.Request) {
		if err := storeBody(filepath.Dir(file), r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /file", func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(file)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
		_, _ = io.Copy(w, f) // a failure shows as a short body, which the client checks
	})
	mux.HandleFunc("GET /versions", func(w http.ResponseWriter, r *http.Request) {})
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(l); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// record is glint's answer to a show of an image the benchmark seeds
// through the API (608 bytes), as GET /v2/images/{id} sent it.
var record = []byte(`{"bench_counter":"0","bench_group":"5","name":"bench-000005","disk_format":"raw","container_format":"bare","visibility":"private","size":null,"virtual_size":null,"status":"queued","checksum":null,"protected":false,"min_ram":0,"min_disk":0,"owner":"bench-project","os_hidden":false,"os_hash_algo":null,"os_hash_value":null,"id":"4127737e-5367-4fd0-9273-240534e7be81","created_at":"2026-12-06T05:48:24Z","updated_at":"2026-12-06T05:48:24Z","tags":["bench","t5"],"self":"/v2/images/4127737e-5367-4fd0-9273-240534e7be81","file":"/v2/images/4127737e-5367-4fd0-9273-240534e7be81/file","schema":"/v2/schemas/image"}`)

var recordLength = strconv.Itoa(len(record))

// startTrivial runs this very binary as `glint bench trivial-server`,
// serving file (which may be "") on GET /file.
func startTrivial(ctx context.Context, dir, file string) (*target, error) {
	self, addr, err := selfOnFreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "bench", "trivial-server", "--listen", addr, "--file", file)
	return startProcess(ctx, "trivial", cmd, "http://"+addr, filepath.Join(dir, "trivial.log"))
}

// startTrivialShow starts the trivial server as the yardstick of the
// show workload: its GET /record, run with the show's load at every level
// of clients beside glint's and Glance's show, is what the HTTP round
// trip of a show costs this machine, without a store, glint's routing or
// an access log.
func startTrivialShow(ctx context.Context, dir string, opts Options) (*server, error) {
	t, err := startTrivial(ctx, dir, "")
	if err != nil {
		return nil, err
	}
	// The headers and connections of the servers' member.
	t.setTrustedCallers()
	c := newClient(t.base, t.member, max(slices.Max(opts.Clients), opts.Concurrent))
	// As the show workload asks: its answer is drained, not decoded.
	get := func(ctx context.Context, _ *rand.Rand) (int, error) {
		return c.do(ctx, "GET", "/record", "", nil, http.StatusOK, nil)
	}
	s := &server{t: t, cs: callers{member: c}, yardstick: true}
	s.setWorkloads([]workload{{name: "show", fn: get}})
	return s, nil
}

// machineLimits measures the trivial server: one PUT and one GET of size
// bytes, each with the server's CPU.
func machineLimits(ctx context.Context, dir string, d digests) ([]Result, error) {
	file := filepath.Join(dir, "trivial.bin")
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	_, err = newPattern(d.size).WriteTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", file, err)
	}
	defer os.Remove(file)

	t, err := startTrivial(ctx, dir, file)
	if err != nil {
		return nil, err
	}
	defer t.stop()
	c := newClient(t.base, Identity{}, 4)
	defer c.close()

	var out []Result
	m := startMeter(t.tree)
	req, _ := http.NewRequestWithContext(ctx, "PUT", t.base+"/sink", newPattern(d.size))
	req.ContentLength = d.size
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	wall, cpu := m.stop()
	out = append(out, transferResult("trivial", "put", 1, d.size, wall, cpu))

	// Storing costs what the page cache and the disk charge this machine
	// now, which varies from run to run (a VM that hands fresh memory
	// back to its host charges for the first touch of every page): the
	// upload pays the same price.
	m = startMeter(t.tree)
	req, _ = http.NewRequestWithContext(ctx, "PUT", t.base+"/store", newPattern(d.size))
	req.ContentLength = d.size
	resp, err = c.http.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return nil, fmt.Errorf("trivial server store: %s", resp.Status)
	}
	wall, cpu = m.stop()
	out = append(out, transferResult("trivial", "store", 1, d.size, wall, cpu))

	m = startMeter(t.tree)
	resp, err = c.http.Get(t.base + "/file")
	if err != nil {
		return nil, err
	}
	check := &patternChecker{}
	_, err = io.CopyBuffer(check, resp.Body, make([]byte, 256<<10))
	resp.Body.Close()
	if err == nil && check.seen() != d.size {
		err = fmt.Errorf("trivial server sent %d bytes of %d", check.seen(), d.size)
	}
	if err != nil {
		return nil, err
	}
	wall, cpu = m.stop()
	out = append(out, transferResult("trivial", "get", 1, d.size, wall, cpu))
	return out, nil
}

// storeBody writes body to a new file in dir a full MiB at a time, as
// glint's upload does, syncs the file and removes it again.
func storeBody(dir string, body io.Reader) error {
	f, err := os.CreateTemp(dir, "trivial-store-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	buf := make([]byte, 1<<20)
	for err == nil {
		var n int
		n, err = io.ReadFull(body, buf)
		if n > 0 {
			if _, werr := f.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
