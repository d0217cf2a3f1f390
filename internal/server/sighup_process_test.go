package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestSIGHUPReloadsPolicyAndLogLevel changes the policy file and the log
// level of a running glint and sends SIGHUP: the new rules and level
// apply, the process keeps running, and requests made meanwhile all
// succeed.
func TestSIGHUPReloadsPolicyAndLogLevel(t *testing.T) {
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "policy.yaml")
	cfgFile := filepath.Join(dir, "glint.yaml")
	os.WriteFile(policyFile, []byte("{}\n"), 0o600)
	os.WriteFile(cfgFile, []byte("log_level: info\nlog_format: json\npolicy:\n  file: "+policyFile+"\n"), 0o600)
	addr := freeAddr(t)
	p := start(t, t.TempDir(), addr, "--config", cfgFile)
	if resp, body, err := p.request("POST", "/v2/images", strings.NewReader(`{"name":"before"}`),
		map[string]string{"Content-Type": "application/json"}); err != nil || resp.StatusCode != 201 {
		t.Fatalf("create before the reload: %v %s", err, body)
	}

	var ok, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, _, err := p.request("GET", "/v2/images", nil, nil)
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
				} else {
					ok.Add(1)
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	os.WriteFile(policyFile, []byte("add_image: \"!\"\n"), 0o600)
	os.WriteFile(cfgFile, []byte("log_level: debug\nlog_format: json\npolicy:\n  file: "+policyFile+"\n"), 0o600)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.logs.String(), "policy reloaded") || !strings.Contains(p.logs.String(), "log level reloaded") {
		if time.Now().After(deadline) {
			t.Fatalf("no reload in the log:\n%s", p.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || ok.Load() == 0 {
		t.Errorf("during the reload: %d requests failed, %d succeeded", failed.Load(), ok.Load())
	}
	if resp, body, err := p.request("POST", "/v2/images", strings.NewReader(`{"name":"after"}`),
		map[string]string{"Content-Type": "application/json"}); err != nil || resp.StatusCode != 403 {
		t.Errorf("create after the policy forbids it: %v %d %s", err, resp.StatusCode, body)
	}
	select {
	case <-p.done:
		t.Fatalf("glint exited on SIGHUP: %v", p.err)
	default:
	}
	// A broken policy file keeps the rules in force.
	os.WriteFile(policyFile, []byte("add_image: [unclosed\n"), 0o600)
	p.cmd.Process.Signal(syscall.SIGHUP)
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(p.logs.String(), "policy reload failed") {
		if time.Now().After(deadline) {
			t.Fatalf("no failed reload in the log:\n%s", p.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resp, _, err := p.request("POST", "/v2/images", strings.NewReader(`{"name":"after2"}`),
		map[string]string{"Content-Type": "application/json"}); err != nil || resp.StatusCode != 403 {
		t.Errorf("after a failed reload the previous rules hold: %v %d", err, resp.StatusCode)
	}
}
