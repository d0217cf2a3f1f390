package testenv_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/testenv"
)

// TestHelperMissing is run by TestMissing in a child process.
func TestHelperMissing(t *testing.T) {
	if os.Getenv("GLINT_TESTENV_CHILD") != "1" {
		t.Skip("run by TestMissing")
	}
	testenv.Missing(t, "GLINT_TEST_NOTHING is not set")
}

// TestMissing: a missing service skips a test locally and fails it under
// CI=true.
func TestMissing(t *testing.T) {
	for _, c := range []struct {
		ci, want string
		fails    bool
	}{{"", "--- SKIP: TestHelperMissing", false}, {"true", "--- FAIL: TestHelperMissing", true}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMissing$", "-test.v")
		cmd.Env = append(os.Environ(), "GLINT_TESTENV_CHILD=1", "CI="+c.ci)
		out, err := cmd.CombinedOutput()
		if (err != nil) != c.fails || !strings.Contains(string(out), c.want) || !strings.Contains(string(out), "GLINT_TEST_NOTHING is not set") {
			t.Errorf("CI=%q: %v\n%s", c.ci, err, out)
		}
	}
}
