package imagecli

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"

	"github.com/glint-image/glint/internal/signature/signtest"
)

// userToken is a token of user scoped to the project of the same name.
func (c *cloud) userToken(user string) string {
	c.t.Helper()
	p, err := openstack.AuthenticatedClient(c.t.Context(), gophercloud.AuthOptions{IdentityEndpoint: c.url + "/identity/v3",
		Username: user, Password: "pw-" + user, DomainName: "Default", TenantName: user})
	if err != nil {
		c.t.Fatal(err)
	}
	return p.Token()
}

// storeCertificate stores der in the cloud's built-in key manager as
// user (Barbican's API, as `openstack secret store` does) and returns
// its id.
func (c *cloud) storeCertificate(user string, der []byte) string {
	c.t.Helper()
	body, _ := json.Marshal(map[string]string{"secret_type": "certificate", "payload_content_type": "application/octet-stream",
		"payload_content_encoding": "base64", "payload": base64.StdEncoding.EncodeToString(der)})
	req, _ := http.NewRequestWithContext(c.t.Context(), "POST", c.url+"/key-manager/v1/secrets/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Auth-Token", c.userToken(user))
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

// TestCreateSignedResume: `image create --sign-key` through a proxy that
// cuts the connection mid-upload resumes by itself, and the server
// verifies the signature over all the parts; with a key that is not the
// certificate's, the resumed upload is refused at the end and nothing is
// kept.
func TestCreateSignedResume(t *testing.T) {
	c := newCloud(t)
	c.addUser("demo")
	path, data := writeData(t, c.dir, "img.raw", 8<<20)
	sum := md5.Sum(data)
	key := signtest.NewKey(t, "rsa", "demo signer")
	cert := c.storeCertificate("demo", key.CertDER)
	p := cuttingProxy(t, strings.TrimPrefix(c.url, "http://"), 3, len(data)/4)
	env := map[string]string{"OS_TOKEN": c.userToken("demo"), "OS_ENDPOINT": "http://" + p.addr + "/v2", "HOME": c.dir}

	r := run(t, env, "create", "--file", path, "--disk-format", "raw", "--sign-key", key.Path, "--sign-cert-id", cert, "signed")
	if r.err != nil {
		t.Fatalf("create: %v\n%s", r.err, r.stderr)
	}
	if p.cuts() != 3 || strings.Count(r.stderr, "upload interrupted") < 3 {
		t.Fatalf("%d cuts, stderr %q", p.cuts(), r.stderr)
	}
	img := showJSON(t, env, "signed")
	props, _ := img["properties"].(map[string]any)
	if img["status"] != "active" || img["checksum"] != hex.EncodeToString(sum[:]) || props["img_signature_certificate_uuid"] != cert {
		t.Fatalf("after the resumed signed create: %v", img)
	}

	p.arm(2)
	other := signtest.NewKey(t, "rsa", "someone else")
	msg, r := fails(t, env, "create", "--file", path, "--disk-format", "raw", "--sign-key", other.Path, "--sign-cert-id", cert, "wrong-key")
	if p.cuts() != 5 || !strings.Contains(msg, "Signature verification failed") {
		t.Errorf("%d cuts in all (want 5); wrong key: %s\n%s", p.cuts(), msg, r.stderr)
	}
	if img := showJSON(t, env, "wrong-key"); img["status"] != "queued" || img["size"] != nil {
		t.Errorf("after a refused resumed upload: %v", img)
	}
	// Nothing of it is kept: the progress query finds no byte.
	id := strings.TrimSpace(ok(t, env, "show", "wrong-key", "-f", "value", "-c", "id"))
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, c.url+"/v2/images/"+id+"/file", nil)
	req.Header.Set("Content-Range", "bytes */"+strconv.Itoa(len(data)))
	req.Header.Set("X-Auth-Token", env["OS_TOKEN"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Upload-Offset") != "0" {
		t.Errorf("progress of the refused upload: %s, Upload-Offset %q", resp.Status, resp.Header.Get("Upload-Offset"))
	}
}
