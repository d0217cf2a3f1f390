package image

import (
	"bytes"
	"crypto"
	"io"
	"strconv"
	"testing"

	"github.com/glint-image/glint/internal/caller"
)

// BenchmarkApplyChanges applies a typical JSON-patch document (rename,
// a few properties added and replaced, one removed) to an image.
func BenchmarkApplyChanges(b *testing.B) {
	name := "cirros"
	base := &Image{ID: "0c6a5f1e-8f0e-4a57-9b1e-77b2b6f7e0a1", Name: &name, Status: StatusActive,
		Visibility: VisibilityShared, Properties: map[string]string{"os_distro": "cirros", "hw_disk_bus": "virtio"}}
	changes := []Change{
		{Op: "replace", Attr: "name", Value: "cirros-0.6"},
		{Op: "add", Attr: "os_version", Value: "0.6"},
		{Op: "replace", Attr: "os_distro", Value: "cirros"},
		{Op: "add", Attr: "hw_qemu_guest_agent", Value: "yes"},
		{Op: "remove", Attr: "hw_disk_bus"},
		{Op: "replace", Attr: "min_ram", Value: float64(256)},
	}
	p := caller.Principal{ProjectID: "p", Roles: []string{"member"}}
	b.ReportAllocs()
	for range b.N {
		img := *base
		img.Properties = map[string]string{"os_distro": "cirros", "hw_disk_bus": "virtio"}
		if err := applyChanges(p, &img, changes); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCopyHashed is the upload pipeline without a network or a disk:
// md5 and sha512 on two goroutines while the data is written, and with a
// signature's third hash (SHA-256, SHA-384) beside them.
func BenchmarkCopyHashed(b *testing.B) {
	for _, size := range []int{1 << 20, 64 << 20} {
		data := bytes.Repeat([]byte("glint-image-data"), size/16)
		for _, extra := range []crypto.Hash{0, crypto.SHA256, crypto.SHA384} {
			name := strconv.Itoa(size>>20) + "MiB"
			var hashes []crypto.Hash
			if extra != 0 {
				name += "-" + extra.String()
				hashes = append(hashes, extra)
			}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(size))
				for range b.N {
					d := newDigester(hashes...)
					if _, err := copyHashed(io.Discard, bytes.NewReader(data), d, int64(size), errTooBig); err != nil {
						b.Fatal(err)
					}
					d.close()
				}
			})
		}
	}
}
