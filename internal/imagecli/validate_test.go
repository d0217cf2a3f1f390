package imagecli

import (
	"strings"
	"testing"
)

// TestSetValidate: with --validate, set checks the properties against
// the cloud's metadata definitions (glint's shipped ones here) and
// changes nothing when one does not match; without it, anything goes, as
// in Glance.
func TestSetValidate(t *testing.T) {
	c := newCloud(t)
	c.addUser("demo")
	env := c.userEnv("demo")
	file, _ := writeData(t, c.dir, "d.raw", 4096)
	ok(t, env, "create", "--file", file, "img")

	msg, r := fails(t, env, "set", "--validate", "--property", "hw_disk_bus=floppy", "--property", "hw_firmware_type=uefi",
		"--property", "hotfix_hours=soon", "--os-distro", "debian", "--name", "renamed", "img")
	for _, want := range []string{
		"hw_disk_bus=floppy: must be one of scsi, virtio, uml, xen, ide, usb, fdc, sata, lxc (metadata definitions namespace OS::Compute::LibvirtImage)",
		"hotfix_hours=soon: must be an integer (metadata definitions namespace SCS::Image::Metadata)",
		"2 of 4 properties do not match the metadata definitions; nothing was changed",
	} {
		if !strings.Contains(msg+"\n"+r.stderr, want) {
			t.Errorf("set --validate output lacks %q:\n%s\n%s", want, r.stderr, msg)
		}
	}
	m := showJSON(t, env, "img")
	if props, _ := m["properties"].(map[string]any); props["hw_firmware_type"] != nil || props["os_distro"] != nil {
		t.Errorf("a refused set changed properties: %v", props)
	}

	ok(t, env, "set", "--validate", "--property", "hw_disk_bus=scsi", "--property", "hw_qemu_guest_agent=yes",
		"--property", "site_specific=anything", "--os-distro", "debian", "img")
	props, _ := showJSON(t, env, "img")["properties"].(map[string]any)
	if props["hw_disk_bus"] != "scsi" || props["site_specific"] != "anything" || props["os_distro"] != "debian" {
		t.Errorf("after a valid set: %v", props)
	}
	// Without --validate the catalog restricts nothing.
	ok(t, env, "set", "--property", "hw_disk_bus=floppy", "img")
	if props, _ := showJSON(t, env, "img")["properties"].(map[string]any); props["hw_disk_bus"] != "floppy" {
		t.Errorf("set without --validate: %v", props)
	}
}
