package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	benchcatalog "github.com/glint-image/glint/internal/image/catalog"
)

// target is one server under test.
type target struct {
	name   string
	base   string
	member Identity // the caller of the workloads
	admin  Identity // seeds the public images
	sharer Identity // shares images with the member (nil Headers: none)
	lonely Identity // a project with no images (nil Headers: none)
	tree   *procTree
	// startup is the time from exec to the first answer (0 when the
	// benchmark did not start the server).
	startup time.Duration
	// seeded is the size of the catalog seeded into its store before it
	// started (Options.SeedDirect), 0 when the API seeds it.
	seeded int
	stop   func()
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startProcess runs cmd, waits until base answers, and returns a target
// whose stop ends the whole process group.
func startProcess(ctx context.Context, name string, cmd *exec.Cmd, base string, logFile string) (*target, error) {
	logf, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	exited := make(chan struct{})
	// The server's exit status is not a result: a server stopped by
	// stop exits on a signal, and one that dies early says why in its log.
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	// A group already gone (ESRCH) is what stop wants.
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	// A server that exits (a bad configuration, say) ends the wait at once,
	// and its last words are the error.
	waitCtx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-exited:
			cancel()
		case <-waitCtx.Done():
		}
	}()
	ready, err := waitReady(waitCtx, base, 90*time.Second)
	cancel()
	if err != nil {
		stop()
		select {
		case <-exited:
			return nil, fmt.Errorf("%s exited before answering: %s (log: %s)", name, logTail(logFile, 2048), logFile)
		default:
		}
		return nil, fmt.Errorf("%s: %w (log: %s)", name, err, logFile)
	}
	return &target{name: name, base: base, tree: &procTree{root: cmd.Process.Pid},
		startup: ready.Sub(t0), stop: stop}, nil
}

// selfOnFreePort returns this very binary's path and a free loopback
// address for a server it is to run.
func selfOnFreePort() (self, addr string, err error) {
	if self, err = os.Executable(); err != nil {
		return "", "", err
	}
	port, err := freePort()
	if err != nil {
		return "", "", err
	}
	return self, "127.0.0.1:" + strconv.Itoa(port), nil
}

// startGlint runs this very binary as `glint serve` on a fresh data
// directory, with trusted headers so that no token is needed and the
// workloads measure the image service alone.
func startGlint(ctx context.Context, dir, configFile string) (*target, error) {
	self, addr, err := selfOnFreePort()
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "glint-data")
	// Logging at its default level, one access line per request, to a
	// file: as Glance is run beside it.
	args := []string{"serve", "--data-dir", data, "--listen", addr,
		"--auth", "trusted-headers"}
	if configFile != "" {
		args = append(args, "--config", configFile)
	}
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Env = os.Environ()
	t, err := startProcess(ctx, "glint", cmd, "http://"+addr, filepath.Join(dir, "glint.log"))
	if err != nil {
		return nil, err
	}
	t.setTrustedCallers()
	return t, nil
}

// setTrustedCallers gives the target the callers of package catalog's
// shapes (its Member, Admin and Lonely projects) and a sharer, in
// trusted headers.
func (t *target) setTrustedCallers() {
	t.member = TrustedIdentity(benchcatalog.Member.Project, "bench-user", "member", "reader")
	t.admin = TrustedIdentity(benchcatalog.Admin.Project, "bench-admin-user", "admin", "member", "reader")
	t.sharer = TrustedIdentity(sharerProject, "bench-sharer-user", "member", "reader")
	t.lonely = TrustedIdentity(benchcatalog.Lonely.Project, "bench-lonely-user", "member", "reader")
}

// sharerProject owns the images the API-seeded catalog shares with the
// member.
const sharerProject = "bench-sharer"

// endpointTarget is a server the benchmark did not start.
func endpointTarget(name, base string, member, admin Identity, pid int) *target {
	t := &target{name: name, base: base, member: member, admin: admin, stop: func() {}}
	if pid > 0 {
		t.tree = &procTree{root: pid}
	}
	return t
}

// logTail returns the last n bytes of a log file, trimmed.
func logTail(path string, n int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if int64(len(b)) > n {
		b = b[int64(len(b))-n:]
	}
	return strings.TrimSpace(string(b))
}

var errNoGlance = errors.New("glance-api is not installed")
