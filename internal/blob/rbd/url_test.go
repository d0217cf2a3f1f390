package rbd_test

import (
	"testing"

	"github.com/glint-image/glint/internal/blob/rbd"
)

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
