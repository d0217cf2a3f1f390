package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestServeHelpAuth: `glint serve --help` names every --auth mode and
// the default (it once listed trusted-headers alone).
func TestServeHelpAuth(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main([]string{"serve", "--help"}, &out, &errOut); code != 0 {
		t.Fatalf("serve --help: exit %d: %s", code, errOut.String())
	}
	var auth string
	for _, line := range strings.Split(out.String()+errOut.String(), "\n") {
		if strings.Contains(line, "--auth string") {
			auth = line
		}
	}
	for _, want := range []string{"builtin (", "keystone (", "trusted-headers (", `(default "builtin")`} {
		if !strings.Contains(auth, want) {
			t.Errorf("--auth help %q lacks %q", auth, want)
		}
	}
}
