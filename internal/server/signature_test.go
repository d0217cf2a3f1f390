package server_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/signature/signtest"
	"github.com/glint-image/glint/internal/testenv"
)

// TestSignedImagesRealClients: certificates made with openssl are stored
// in glint's built-in key manager with Debian's python3-barbicanclient
// (`openstack secret store`, `list`, `get`, `delete`); images signed by
// openstackclient (--sign-key-path) and by `glint image create
// --sign-key` are verified on upload; tampered data, a wrong certificate,
// an expired certificate and an unsupported method are each refused with
// Glance's 400, the image left queued and no data kept. It runs when
// GLINT_TEST_BARBICAN_CLI names an openstack command with the barbican
// plugin (.ci/run installs python3-barbicanclient and sets it).
func TestSignedImagesRealClients(t *testing.T) {
	cli := os.Getenv("GLINT_TEST_BARBICAN_CLI")
	if cli == "" {
		testenv.Missing(t, "GLINT_TEST_BARBICAN_CLI is not set; set it to an openstack command with python3-barbicanclient installed")
	}
	script, err := exec.LookPath("script")
	if err != nil {
		testenv.Missing(t, "script (util-linux) is not installed; openstackclient reads the signing key's password from a terminal")
	}
	dir := t.TempDir()
	p, addr, adminEnv := cloudServe(t, dir, "--no-dashboard")
	userEnv := func(user string) []string { return osEnv(addr, user, "pw-"+user, user) }
	for _, name := range []string{"demo", "alt"} {
		addMember(t, cli, adminEnv, name, "pw-"+name)
	}
	demo := func(args ...string) string { return osc(t, cli, userEnv("demo"), args...) }

	// Certificates into the key manager with barbicanclient.
	signer := signtest.NewKey(t, "rsa", "demo signer")
	otherKey := signtest.NewKey(t, "ec384", "another signer")
	store := func(name string, der []byte) (href, id string) {
		href = strings.TrimSpace(demo("secret", "store", "--name", name, "--secret-type", "certificate",
			"--payload-content-type", "application/octet-stream", "--payload-content-encoding", "base64",
			"--payload", base64.StdEncoding.EncodeToString(der), "-f", "value", "-c", "Secret href"))
		if !strings.HasPrefix(href, "http://"+addr+"/key-manager/v1/secrets/") {
			t.Fatalf("secret store printed %q", href)
		}
		return href, href[strings.LastIndex(href, "/")+1:]
	}
	certHref, certID := store("signer", signer.CertDER)
	_, otherID := store("other", otherKey.CertDER)
	_, expiredID := store("expired", signer.Issue(t, "expired signer", "20200101000000Z", "20200201000000Z", nil, false))
	if list := demo("secret", "list", "-f", "value", "-c", "Secret href"); strings.Count(list, "/key-manager/v1/secrets/") != 3 ||
		!strings.Contains(list, certHref) {
		t.Fatalf("secret list:\n%s", list)
	}
	if got := demo("secret", "get", certHref, "-f", "value", "-c", "Secret type"); strings.TrimSpace(got) != "certificate" {
		t.Fatalf("secret get: %q", got)
	}
	fetched := filepath.Join(dir, "fetched.der")
	demo("secret", "get", certHref, "--payload_content_type", "application/octet-stream", "--file", fetched)
	if b, _ := os.ReadFile(fetched); !bytes.Equal(b, signer.CertDER) {
		t.Fatal("secret get --file returned other bytes than were stored")
	}
	if out, err := oscErr(cli, userEnv("alt"), "secret", "get", certHref); err == nil || !strings.Contains(out, "Forbidden: Secret retrieval attempt not allowed") {
		t.Fatalf("another project reads the certificate: %v\n%s", err, out)
	}
	if list := osc(t, cli, userEnv("alt"), "secret", "list", "-f", "json"); strings.TrimSpace(list) != "[]" {
		t.Fatalf("another project lists: %q", list)
	}

	data := make([]byte, 4<<20+9)
	rand.Read(data)
	src := filepath.Join(dir, "signed.raw")
	os.WriteFile(src, data, 0o600)
	showStatus := func(name string) string {
		var img map[string]any
		json.Unmarshal([]byte(demo("image", "show", name, "-f", "json")), &img)
		s, _ := img["status"].(string)
		return s
	}

	// openstackclient's own signing; it asks for the key's password on
	// a terminal.
	oscTTY(t, script, cli, userEnv("demo"), "image", "create", "--disk-format", "raw", "--container-format", "bare",
		"--file", src, "--sign-key-path", signer.Path, "--sign-cert-id", certID, "osc-signed")
	if s := showStatus("osc-signed"); s != "active" {
		t.Fatalf("image signed by openstackclient: %s", s)
	}
	// glint's CLI.
	glintEnv := append(cleanOSEnv(), userEnv("demo")...)
	cmd := exec.Command(glintBinary, "image", "create", "--file", src, "--sign-key", signer.Path, "--sign-cert-id", certID, "glint-signed")
	cmd.Env = glintEnv
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("glint image create --sign-key: %v\n%s", err, out)
	}
	if s := showStatus("glint-signed"); s != "active" {
		t.Fatalf("image signed by glint image create: %s", s)
	}

	// Refusals, through the API with demo's token.
	token := strings.TrimSpace(demo("token", "issue", "-f", "value", "-c", "id"))
	do := caller(t, map[string]string{"X-Auth-Token": token, "Accept": "application/json"})
	call := func(method, path, ctype string, body []byte) (int, []byte) {
		t.Helper()
		return do(p.url, method, path, ctype, body)
	}
	tampered := bytes.Clone(data)
	tampered[len(tampered)/2] ^= 0x01
	sha256Sig := signer.SignBytes(t, data, "SHA-256")
	blobs := filepath.Join(dir, "images", "blobs")
	before := countFiles(t, blobs)
	for _, c := range []struct {
		name, sig, hash, keyType, cert string
		body                           []byte
		want                           string
	}{
		{"tampered data", sha256Sig, "SHA-256", "RSA-PSS", certID, tampered, "Signature verification failed"},
		{"wrong certificate", sha256Sig, "SHA-256", "RSA-PSS", otherID, data,
			"Signature verification for the image failed: Invalid public key type for signature key type: RSA-PSS."},
		{"expired certificate", sha256Sig, "SHA-256", "RSA-PSS", expiredID, data,
			"Signature verification for the image failed: Certificate is not valid after: 2020-02-01 00:00:00 UTC."},
		{"unsupported method", sha256Sig, "SHA-1", "RSA-PSS", certID, data,
			"Signature verification for the image failed: Invalid signature hash method: SHA-1."},
	} {
		create, _ := json.Marshal(map[string]string{"name": c.name, "disk_format": "raw", "container_format": "bare",
			"img_signature": c.sig, "img_signature_hash_method": c.hash, "img_signature_key_type": c.keyType, "img_signature_certificate_uuid": c.cert})
		status, body := call("POST", "/v2/images", "application/json", create)
		var img struct{ ID string }
		if status != http.StatusCreated || json.Unmarshal(body, &img) != nil {
			t.Fatalf("%s: create: %d %s", c.name, status, body)
		}
		status, body = call("PUT", "/v2/images/"+img.ID+"/file", "application/octet-stream", c.body)
		want := "Signature verification failed for image " + img.ID + ": " + c.want
		if status != http.StatusBadRequest || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d %s, want 400 %q", c.name, status, body, want)
		}
		_, body = call("GET", "/v2/images/"+img.ID, "", nil)
		var shown map[string]any
		json.Unmarshal(body, &shown)
		if shown["status"] != "queued" || shown["size"] != nil || shown["checksum"] != nil {
			t.Errorf("%s: image after the refusal: %v", c.name, shown)
		}
	}
	if n := countFiles(t, blobs); n != before {
		t.Errorf("refused uploads left %d files in the store", n-before)
	}
	if n := countFiles(t, filepath.Join(dir, "images", "tmp")); n != 0 {
		t.Errorf("refused uploads left %d temporary files", n)
	}

	demo("secret", "delete", certHref)
	if list := demo("secret", "list", "-f", "value", "-c", "Secret href"); strings.Contains(list, certHref) {
		t.Fatalf("deleted secret still listed:\n%s", list)
	}
}

// oscTTY runs openstack on a terminal (script(1)) and answers its
// password prompt with an empty line, once the prompt shows: getpass
// discards what was typed before it.
func oscTTY(t *testing.T, script, cli string, env []string, args ...string) {
	t.Helper()
	quoted := []string{shellQuote(cli)}
	for _, a := range args {
		quoted = append(quoted, shellQuote(a))
	}
	cmd := exec.Command(script, "-qec", strings.Join(quoted, " "), "/dev/null")
	cmd.Env = append(cleanOSEnv(), env...)
	in, _ := cmd.StdinPipe()
	outPipe, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r := bufio.NewReader(outPipe)
	answered := false
	for {
		b, err := r.ReadByte()
		if err != nil {
			break
		}
		out.WriteByte(b)
		if !answered && strings.Contains(out.String(), "leave empty if none: ") {
			fmt.Fprint(in, "\n")
			answered = true
		}
	}
	if err := cmd.Wait(); err != nil || !answered {
		t.Fatalf("openstack %s on a terminal: %v (prompt answered: %v)\n%s", strings.Join(args, " "), err, answered, out.String())
	}
	in.Close()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
