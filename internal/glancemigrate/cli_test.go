package glancemigrate_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/glancemigrate"
)

// glintBinary builds cmd/glint once for the test.
func glintBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "glint")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/glint-image/glint/cmd/glint").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/glint: %v\n%s", err, out)
	}
	return bin
}

// run runs the glint binary and returns its stdout and exit code.
func run(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		t.Logf("glint %s: exit %d\n%s", strings.Join(args, " "), exit.ExitCode(), stderr.String())
		return stdout.String(), exit.ExitCode()
	case err != nil:
		t.Fatalf("glint %s: %v", strings.Join(args, " "), err)
	}
	return stdout.String(), 0
}

// TestMigrateCLI drives the commands an operator runs, through the
// built cmd/glint: migrate-glance --print-config writes the
// configuration, --dry-run reports and writes nothing, the run migrates
// (JSON report), --include-deleted adds the deleted image as a deleted
// record, `glint serve` serves the result, and verify-glance finds no
// difference, then finds the one made behind its back (exit status 1).
func TestMigrateCLI(t *testing.T) {
	gs := glances(t)
	bin := glintBinary(t)
	for kind, g := range gs {
		t.Run(kind, func(t *testing.T) {
			gl := api{t: t, base: g[0]}
			owner := who{"cli-owner" + suffix(), "member,reader"}
			ids := map[string]string{}
			for _, store := range []string{"fast", "slow"} {
				id := gl.create(owner, map[string]any{"name": "cli-" + store, "disk_format": "raw", "container_format": "bare", "tags": []string{store}})
				gl.do(owner, "PUT", "/v2/images/"+id+"/file", randomData(t, 70_000), 204, "X-Image-Meta-Store", store)
				ids[store] = id
			}
			ids["queued"] = gl.create(owner, map[string]any{"name": "cli-queued", "min_ram": 64})
			gone := gl.create(owner, map[string]any{"name": "cli-deleted", "disk_format": "raw", "container_format": "bare"})
			gl.do(owner, "PUT", "/v2/images/"+gone+"/file", randomData(t, 1000), 204)
			gl.do(owner, "DELETE", "/v2/images/"+gone, nil, 204)

			dir := t.TempDir()
			yaml, code := run(t, bin, "admin", "migrate-glance", "--glance-config", g[1], "--print-config", "--copy-data", "slow", "--data-dir", dir)
			if code != 0 || !strings.Contains(yaml, "layout: glance") {
				t.Fatalf("--print-config: exit %d\n%s", code, yaml)
			}
			cfgFile := filepath.Join(dir, "glint.yaml")
			if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := config.Default()
			if err := cfg.LoadFile(cfgFile); err != nil {
				t.Fatal(err)
			}

			report := func(args ...string) (glancemigrate.Report, int) {
				t.Helper()
				out, code := run(t, bin, append([]string{"admin", "migrate-glance", "--glance-config", g[1], "--config", cfgFile, "-o", "json"}, args...)...)
				var rep glancemigrate.Report
				if err := json.Unmarshal([]byte(out), &rep); err != nil {
					t.Fatalf("the JSON report: %v\n%s", err, out)
				}
				// Exit status 1 exactly when something was skipped (the
				// shared Glance holds other tests' broken images).
				if (code != 0) != (rep.Images.Skipped+rep.Namespaces.Skipped > 0) || code > 1 {
					t.Errorf("exit %d with %d images skipped", code, rep.Images.Skipped)
				}
				for _, s := range rep.Skipped {
					for role, id := range ids {
						if s.ID == id {
							t.Errorf("%s skipped: %s", role, s.Reason)
						}
					}
				}
				return rep, code
			}
			dry, _ := report("--dry-run")
			if !dry.DryRun || dry.Images.Created < len(ids) {
				t.Errorf("--dry-run: %+v", dry.Images)
			}
			rep, _ := report()
			if rep.Images.Created != dry.Images.Created || rep.DataAdopted < 1 || rep.DataCopied < 1 {
				t.Errorf("run after the dry run: %+v (dry run planned %d creations), %d adopted, %d copied",
					rep.Images, dry.Images.Created, rep.DataAdopted, rep.DataCopied)
			}
			if _, err := glintRecord(t, cfg, gone); err == nil {
				t.Errorf("the deleted image was migrated without --include-deleted")
			}
			inc, _ := report("--include-deleted")
			if inc.Images.Created < 1 {
				t.Errorf("--include-deleted created nothing: %+v", inc.Images)
			}
			if rec, err := glintRecord(t, cfg, gone); err != nil || !rec.IsDeleted() || rec.Location != "" {
				t.Errorf("the deleted image after --include-deleted: %+v %v", rec, err)
			}

			// glint serve on the result.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			srv := exec.Command(bin, "serve", "--config", cfgFile, "--auth", "trusted-headers", "--listen", addr, "--no-dashboard")
			var srvLog bytes.Buffer
			srv.Stdout, srv.Stderr = &srvLog, &srvLog
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
			glintURL := "http://" + addr
			for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				if resp, err := http.Get(glintURL + "/versions"); err == nil {
					resp.Body.Close()
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("glint serve did not answer:\n%s", srvLog.String())
				}
			}

			verify := func() (glancemigrate.VerifyReport, int) {
				t.Helper()
				out, code := run(t, bin, "admin", "verify-glance", "--glance-url", g[0], "--glint-url", glintURL,
					"--project-id", owner.project, "--roles", "member,reader", "--copied-store", "slow", "-o", "json")
				var vr glancemigrate.VerifyReport
				if err := json.Unmarshal([]byte(out), &vr); err != nil {
					t.Fatalf("verify-glance's JSON: %v\n%s", err, out)
				}
				return vr, code
			}
			vr, code := verify()
			// At least the owner's images (public ones of the package's
			// other tests are visible too).
			if code != 0 || vr.Images < len(ids) || vr.DataChecked < 2 || vr.LocationsCompared < 2 || len(vr.Differences) != 0 {
				t.Errorf("verify-glance: exit %d, %d images, %d data and %d locations checked, differences %+v",
					code, vr.Images, vr.DataChecked, vr.LocationsCompared, vr.Differences)
			}
			l := api{t: t, base: glintURL}
			l.do(owner, "PATCH", "/v2/images/"+ids["fast"], `[{"op":"replace","path":"/min_disk","value":9}]`, 200)
			vr, code = verify()
			fields := map[string]bool{}
			for _, d := range vr.Differences {
				if d.ImageID != ids["fast"] {
					t.Errorf("verify-glance: a difference in another image: %+v", d)
				}
				fields[d.Field] = true
			}
			// The PATCH changed min_disk, and so updated_at, unless it ran
			// within the second the image was made in Glance (timestamps
			// are shown to the second).
			delete(fields, "updated_at")
			if code != 1 || len(fields) != 1 || !fields["min_disk"] {
				t.Errorf("verify-glance after a change in glint: exit %d, differences %+v", code, vr.Differences)
			}
		})
	}
}
