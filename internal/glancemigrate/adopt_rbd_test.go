//go:build ceph

package glancemigrate_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/glancemigrate"
	"github.com/glint-image/glint/internal/testenv"
)

// TestMigrateAdoptsRBD: an image uploaded through Glance's own rbd
// driver (a second glance-api on the test Glance's database with an rbd
// store on the test cluster: an RBD image named by the image id, its
// protected snapshot "snap", the location rbd://<fsid>/<pool>/<id>/snap)
// is adopted in place by the glint RBD store --print-config writes for
// the same pool: the same direct_url in both APIs, the data served from
// the same RBD image, and the RBD image and its snapshot left as they
// were.
func TestMigrateAdoptsRBD(t *testing.T) {
	cephConf := os.Getenv("GLINT_TEST_CEPH_CONF")
	if cephConf == "" {
		testenv.Missing(t, "GLINT_TEST_CEPH_CONF unset (.ci/ceph.sh starts a cluster)")
	}
	keyring, user, pool := os.Getenv("GLINT_TEST_CEPH_KEYRING"), os.Getenv("GLINT_TEST_CEPH_USER"), os.Getenv("GLINT_TEST_CEPH_POOL")
	rbd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("rbd", append([]string{"--conf", cephConf, "--id", user, "--keyring", keyring, "--pool", pool}, args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("rbd %v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	var fsid string
	conf, _ := os.ReadFile(cephConf)
	for _, line := range strings.Split(string(conf), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "fsid" {
			fsid = strings.TrimSpace(v)
		}
	}
	// Glance's driver finds its key through ceph.conf, as deployments
	// set it up; the test cluster keeps the client's key in a file of
	// its own, which a copy of ceph.conf names.
	glanceCephConf := filepath.Join(t.TempDir(), "ceph.conf")
	if err := os.WriteFile(glanceCephConf, []byte(string(conf)+"\n[client."+user+"]\nkeyring = "+keyring+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := oneGlance(t)
	gl, gc := startGlance(t, g[1], "ceph:rbd", "[ceph]\nrbd_store_pool = "+pool+"\nrbd_store_user = "+user+
		"\nrbd_store_ceph_conf = "+glanceCephConf+"\nrbd_store_chunk_size = 8\n")

	owner := who{"rbd-owner" + suffix(), "member,reader"}
	id := gl.create(owner, map[string]any{"name": "in-rbd", "disk_format": "raw", "container_format": "bare"})
	data := randomData(t, 3<<20+12345)
	gl.do(owner, "PUT", "/v2/images/"+id+"/file", data, 204, "X-Image-Meta-Store", "ceph")
	forgetInGlance(t, glanceDB(t, gc), id)
	t.Cleanup(func() {
		rbd("snap", "unprotect", id+"@snap")
		rbd("snap", "purge", id)
		rbd("rm", id)
	})
	glanceURL := "rbd://" + fsid + "/" + pool + "/" + id + "/snap"
	if img := gl.image(owner, id); img["direct_url"] != glanceURL || img["stores"] != "ceph" {
		t.Fatalf("Glance's rbd driver wrote another location: %v (want %s)", img, glanceURL)
	}
	if info := rbd("snap", "ls", id); !strings.Contains(info, "snap") {
		t.Fatalf("Glance made no snapshot:\n%s", info)
	}

	cfg := glintConfig(t, gc, "slow")
	found := false
	for i, st := range cfg.Stores {
		if st.ID == "ceph" {
			cfg.Stores[i].RBD.Keyring = keyring
			found = st.Type == "rbd" && st.RBD.Pool == pool && st.RBD.User == user && st.RBD.ChunkSizeMiB == 8
		}
	}
	if !found {
		t.Fatalf("the written configuration lacks the rbd store: %+v", cfg.Stores)
	}
	rep := migrate(t, cfg, gc, glancemigrate.Options{})
	if r, ok := skippedIDs(rep)[id]; ok {
		t.Fatalf("the RBD image was skipped: %s", r)
	}
	if rep.DataAdopted < 1 {
		t.Errorf("data: %+v", rep)
	}
	l := startGlint(t, cfg)
	gi, li := gl.image(owner, id), l.image(owner, id)
	compareImage(t, "rbd image", gi, li)
	if li["direct_url"] != glanceURL {
		t.Errorf("direct_url: Glance %v, glint %v", gi["direct_url"], li["direct_url"])
	}
	if got := l.do(owner, "GET", "/v2/images/"+id+"/file", nil, 200); !bytes.Equal(got, data) {
		t.Errorf("download from glint: %d bytes, want %d", len(got), len(data))
	}
	// Adopted in place: the RBD image and its protected snapshot are
	// untouched, and no other image appeared in the pool for it.
	if info := rbd("snap", "ls", id); !strings.Contains(info, "snap") {
		t.Errorf("the snapshot is gone:\n%s", info)
	}
	if ls := rbd("ls"); strings.Count(ls, id) != 1 {
		t.Errorf("pool listing:\n%s", ls)
	}
	// verify-glance reads the data back from glint with the checksums
	// Glance recorded.
	v := &glancemigrate.Verifier{GlanceURL: gl.base, GlintURL: l.base, Data: true,
		Caller: glancemigrate.Caller{Project: owner.project, Roles: []string{"member", "reader"}}}
	vr, err := v.Verify(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if vr.DataChecked < 1 || vr.LocationsCompared < 1 || len(vr.Differences) != 0 {
		t.Errorf("verify-glance: %d data and %d locations checked, differences %+v", vr.DataChecked, vr.LocationsCompared, vr.Differences)
	}
}
