package rbdconfig_test

import (
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/blob/rbd/rbdconfig"
)

func TestConfigValidate(t *testing.T) {
	if err := (rbdconfig.Config{}).Validate(); err != nil {
		t.Errorf("the zero Config (all defaults): %v", err)
	}
	good := rbdconfig.Config{Pool: "images", User: "glance", ConfFile: "/etc/ceph/ceph.conf", ChunkSizeMiB: 16, ConnectTimeout: 5}
	if err := good.Validate(); err != nil {
		t.Errorf("%+v: %v", good, err)
	}
	for _, c := range []struct {
		cfg  rbdconfig.Config
		want string
	}{
		{rbdconfig.Config{Pool: "my pool"}, "rbd.pool"},
		{rbdconfig.Config{User: "client.glance"}, "rbd.user"},
		{rbdconfig.Config{ChunkSizeMiB: 3}, "rbd.chunk_size"},
		{rbdconfig.Config{ChunkSizeMiB: 64}, "rbd.chunk_size"},
		{rbdconfig.Config{ConnectTimeout: -1}, "rbd.connect_timeout"},
	} {
		if err := c.cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error naming %s", c.cfg, err, c.want)
		}
	}
	d := rbdconfig.Config{}.WithDefaults()
	if d.Pool != "images" || d.ChunkSizeMiB != 8 {
		t.Errorf("defaults: %+v, want Glance's (pool images, 8 MiB chunks)", d)
	}
}
