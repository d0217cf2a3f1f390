package imagecli

import (
	"crypto/md5"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/glint-image/glint/internal/config"
)

// TestCreateAndStageResume: `image create --file` and `image stage` go
// through a proxy that cuts the connection a few times mid-upload; both
// resume by themselves and the image ends with the file's checksum.
func TestCreateAndStageResume(t *testing.T) {
	c := newCloud(t, func(cfg *config.Config) { cfg.Import.Methods = []string{"glance-direct"} })
	data := make([]byte, 8<<20)
	rand.NewChaCha8([32]byte{9}).Read(data)
	file := filepath.Join(c.dir, "disk.raw")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	p := cuttingProxy(t, strings.TrimPrefix(c.url, "http://"), 3, len(data)/4)
	env := map[string]string{"OS_TOKEN": c.adminToken(), "OS_ENDPOINT": "http://" + p.addr + "/v2", "HOME": c.dir}

	r := run(t, env, "create", "--disk-format", "raw", "--container-format", "bare", "--file", file, "resumed", "-f", "value", "-c", "id")
	if r.err != nil {
		t.Fatalf("create: %v\n%s", r.err, r.stderr)
	}
	if p.cuts() != 3 || strings.Count(r.stderr, "upload interrupted") < 3 {
		t.Fatalf("%d cuts, stderr %q", p.cuts(), r.stderr)
	}
	img := showJSON(t, env, "resumed")
	if img["status"] != "active" || img["checksum"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("after the resumed create: %v", img)
	}

	p.arm(2)
	ok(t, env, "create", "--disk-format", "raw", "--container-format", "bare", "to-stage")
	r = run(t, env, "stage", "--file", file, "to-stage")
	if r.err != nil {
		t.Fatalf("stage: %v\n%s", r.err, r.stderr)
	}
	if p.cuts() != 5 {
		t.Fatalf("%d cuts in all, want 5", p.cuts())
	}
	img = showJSON(t, env, "to-stage")
	if img["status"] != "uploading" || img["size"] != float64(len(data)) {
		t.Fatalf("after the resumed stage: %v", img)
	}
}

// proxy forwards TCP connections to a server and cuts a connection after
// a random number of bytes from the client, while it has cuts left.
type proxy struct {
	addr string
	mu   sync.Mutex
	left int
	done int
	max  int
	rnd  *rand.Rand
}

func cuttingProxy(t *testing.T, target string, cuts, max int) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &proxy{addr: ln.Addr().String(), left: cuts, max: max, rnd: rand.New(rand.NewPCG(1, 2))}
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(in, target)
		}
	}()
	return p
}

func (p *proxy) arm(cuts int) {
	p.mu.Lock()
	p.left = cuts
	p.mu.Unlock()
}

func (p *proxy) cuts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

func (p *proxy) serve(in net.Conn, target string) {
	defer in.Close()
	out, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer out.Close()
	go io.Copy(in, out)
	p.mu.Lock()
	budget := int64(256<<10 + p.rnd.IntN(p.max))
	armed := p.left > 0
	p.mu.Unlock()
	if !armed {
		io.Copy(out, in)
		return
	}
	n, _ := io.CopyN(out, in, budget)
	if n < budget {
		return // the client closed first (a small request)
	}
	p.mu.Lock()
	if p.left > 0 {
		p.left--
		p.done++
		p.mu.Unlock()
		return // both ends close: the connection is cut
	}
	p.mu.Unlock()
	io.Copy(out, in)
}
