//go:build ceph

package api_test

import (
	"strings"
	"testing"
)

// TestRBDResumeKilledConnections: the killed-connections upload on the RBD
// store (writes at the checkpoint's offset), with no image left behind.
func TestRBDResumeKilledConnections(t *testing.T) {
	c := rbdConfig(t)
	e := newEnvConfig(t, rbdStores(t, c))
	size := 48 << 20
	if testing.Short() {
		size = 12 << 20
	}
	killedUpload(t, e, "file", size)
	out, err := rbdCLI(c, "ls")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "+partial") {
		t.Fatalf("partial images left behind:\n%s", out)
	}
}
