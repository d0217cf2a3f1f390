package imagecli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"

	"github.com/glint-image/glint/internal/signature/signtest"
)

// storeCertificate stores der in the cloud's built-in key manager as
// user (Barbican's API, as `openstack secret store` does) and returns
// its id.
func (c *cloud) storeCertificate(user string, der []byte) string {
	c.t.Helper()
	p, err := openstack.AuthenticatedClient(c.t.Context(), gophercloud.AuthOptions{IdentityEndpoint: c.url + "/identity/v3",
		Username: user, Password: "pw-" + user, DomainName: "Default", TenantName: user})
	if err != nil {
		c.t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"secret_type": "certificate", "payload_content_type": "application/octet-stream",
		"payload_content_encoding": "base64", "payload": base64.StdEncoding.EncodeToString(der)})
	req, _ := http.NewRequestWithContext(c.t.Context(), "POST", c.url+"/key-manager/v1/secrets/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Auth-Token", p.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Ref string `json:"secret_ref"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		c.t.Fatalf("storing the certificate: %s %v", resp.Status, err)
	}
	return out.Ref[strings.LastIndex(out.Ref, "/")+1:]
}

// TestCreateSigned: image create --sign-key signs the file as
// openstackclient does, and the server verifies it; a key that is not the
// certificate's is refused by the server, leaving the image queued.
func TestCreateSigned(t *testing.T) {
	c := newCloud(t)
	c.addUser("demo")
	env := c.userEnv("demo")
	path, _ := writeData(t, c.dir, "img.raw", 2<<20+3)
	for kind, hash := range map[string]string{"rsa": "SHA-256", "ec384": "SHA-384", "ec521": "SHA-512"} {
		key := signtest.NewKey(t, kind, "demo signer")
		cert := c.storeCertificate("demo", key.CertDER)
		args := []string{"create", "--file", path, "--sign-key", key.Path, "--sign-cert-id", cert, "signed-" + kind}
		if hash != "SHA-256" {
			args = append(args, "--sign-hash", hash)
		}
		ok(t, env, args...)
		img := showJSON(t, env, "signed-"+kind)
		props, _ := img["properties"].(map[string]any)
		if img["status"] != "active" || props["img_signature_key_type"] != key.KeyType() || props["img_signature_hash_method"] != hash ||
			props["img_signature_certificate_uuid"] != cert {
			t.Errorf("%s: %v", kind, img)
		}
	}

	signer := signtest.NewKey(t, "rsa", "demo signer")
	cert := c.storeCertificate("demo", signer.CertDER)
	other := signtest.NewKey(t, "rsa", "someone else")
	msg, _ := fails(t, env, "create", "--file", path, "--sign-key-path", other.Path, "--sign-cert-id", cert, "wrong-key")
	// The server's reason reaches the user, not only the status.
	if !strings.Contains(msg, "was created but its data was not stored") || !strings.Contains(msg, "Signature verification failed") {
		t.Errorf("wrong key: %s", msg)
	}
	if img := showJSON(t, env, "wrong-key"); img["status"] != "queued" || img["size"] != nil {
		t.Errorf("after a refused upload: %v", img)
	}
	if msg, _ := fails(t, env, "create", "--sign-key", signer.Path, "--sign-cert-id", cert, "no-file"); !strings.Contains(msg, "requires the --file option") {
		t.Errorf("no file: %s", msg)
	}
	if msg, _ := fails(t, env, "create", "--file", path, "--sign-key", signer.Path, "no-cert"); !strings.Contains(msg, "must both be present") {
		t.Errorf("no certificate id: %s", msg)
	}
}
