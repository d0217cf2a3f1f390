package dashboard_test

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/signature/signtest"
)

// TestSignatureShown: the details page says whether an image is signed
// and whether its data was verified.
func TestSignatureShown(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	c.addUser("alice", "demo")
	alice := c.token("alice", "pw-alice", "demo")
	key := signtest.NewKey(t, "rsa", "alice")
	var ref struct {
		Ref string `json:"secret_ref"`
	}
	c.json("POST", "/key-manager/v1/secrets", alice, map[string]string{"secret_type": "certificate", "payload_content_type": "application/octet-stream",
		"payload_content_encoding": "base64", "payload": base64.StdEncoding.EncodeToString(key.CertDER)}, 201, &ref)
	data := make([]byte, 70_000)
	rand.Read(data)
	certID := ref.Ref[strings.LastIndex(ref.Ref, "/")+1:]
	signed := c.createImage(alice, map[string]any{"name": "signed", "disk_format": "raw", "container_format": "bare",
		"img_signature": key.SignBytes(t, data, "SHA-256"), "img_signature_hash_method": "SHA-256",
		"img_signature_key_type": "RSA-PSS", "img_signature_certificate_uuid": certID})["id"].(string)
	unsigned := c.createImage(alice, map[string]any{"name": "unsigned", "disk_format": "raw", "container_format": "bare"})["id"].(string)
	b := c.browser()
	b.signIn("alice", "pw-alice")
	shows := func(id, want string) {
		t.Helper()
		if p := b.get("/dashboard/images/" + id); p.status != 200 || !strings.Contains(p.body, `data-signature="`+want+`"`) {
			t.Errorf("image %s: %d, want the signature shown as %s", id, p.status, want)
		}
	}
	shows(signed, "signed")
	shows(unsigned, "none")
	c.upload(alice, signed, data)
	shows(signed, "verified")
	if p := b.get("/dashboard/images/" + signed); !strings.Contains(p.body, "RSA-PSS with SHA-256") || !strings.Contains(p.body, certID) {
		t.Error("the verified signature's method and certificate are not shown")
	}
}
