package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// ServeTrivial is the yardstick for transfers: the least an HTTP server
// in Go can do to take a PUT (read and drop the body), to store one (write
// it to a file and fsync it, as an upload must), and to serve a GET of a
// file (io.Copy from an *os.File, which net/http turns into sendfile).
// `glint bench trivial-server` runs it in a process of its own, so its
// CPU is measured like a real server's.
func ServeTrivial(ctx context.Context, addr, file string) error {
	mux := http.NewServeMux()
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

	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.CommandContext(ctx, self, "bench", "trivial-server", "--listen", addr, "--file", file)
	t, err := startProcess(ctx, "trivial", cmd, "http://"+addr, filepath.Join(dir, "trivial.log"))
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
