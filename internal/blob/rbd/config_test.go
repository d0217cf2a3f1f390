package rbd_test

import (
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/blob/rbd"
)

func TestConfigValidate(t *testing.T) {
	if err := (rbd.Config{}).Validate(); err != nil {
		t.Errorf("the zero Config (all defaults): %v", err)
	}
	good := rbd.Config{Pool: "images", User: "glance", ConfFile: "/etc/ceph/ceph.conf", ChunkSizeMiB: 16, ConnectTimeout: 5}
	if err := good.Validate(); err != nil {
		t.Errorf("%+v: %v", good, err)
	}
	for _, c := range []struct {
		cfg  rbd.Config
		want string
	}{
		{rbd.Config{Pool: "my pool"}, "rbd.pool"},
		{rbd.Config{User: "client.glance"}, "rbd.user"},
		{rbd.Config{ChunkSizeMiB: 3}, "rbd.chunk_size"},
		{rbd.Config{ChunkSizeMiB: 64}, "rbd.chunk_size"},
		{rbd.Config{ConnectTimeout: -1}, "rbd.connect_timeout"},
	} {
		if err := c.cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error naming %s", c.cfg, err, c.want)
		}
	}
	d := rbd.Config{}.WithDefaults()
	if d.Pool != "images" || d.ChunkSizeMiB != 8 {
		t.Errorf("defaults: %+v, want Glance's (pool images, 8 MiB chunks)", d)
	}
}

func TestURL(t *testing.T) {
	l := rbd.Location{FSID: "4368a0bc-e4fe-4391-a79d-72060eaf108c", Pool: "images", Image: "6f39b5e3-25f7-4a61-962e-e9be4ff3f9ce", Snapshot: "snap"}
	u := l.String()
	if u != "rbd://4368a0bc-e4fe-4391-a79d-72060eaf108c/images/6f39b5e3-25f7-4a61-962e-e9be4ff3f9ce/snap" {
		t.Errorf("String = %s", u)
	}
	back, err := rbd.ParseURL(u)
	if err != nil || back != l {
		t.Errorf("ParseURL(%s) = %+v, %v", u, back, err)
	}
	for _, bad := range []string{"rbd://image-only", "rbd://a/b/c", "rbd://a//c/d", "rbd://a/b/c/d/e", "file:///x", "rbd://a/b/%zz/d"} {
		if _, err := rbd.ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) accepted", bad)
		}
	}
}
