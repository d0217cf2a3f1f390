package server_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/servertest"
	"github.com/glint-image/glint/internal/signature/signtest"
)

// TestBarbicanKeyManager: a glint configured with key_manager: barbican
// fetches certificates from a Barbican with the caller's token, as
// castellan does for Glance. The Barbican (and the Keystone) here is
// another glint's built-in key manager and identity: the same API a real
// Barbican serves, with its access rules.
func TestBarbicanKeyManager(t *testing.T) {
	serve := func(cfg config.Config) string { return servertest.Start(t, cfg).URL }
	// A: identity and key manager.
	cfgA := config.Default()
	cfgA.DataDir, cfgA.PasswordCost, cfgA.NoDashboard = t.TempDir(), 4, true
	t.Setenv("GLINT_BOOTSTRAP_PASSWORD", "pw-admin-"+strings.ToLower(rand.Text()))
	password := os.Getenv("GLINT_BOOTSTRAP_PASSWORD")
	a := serve(cfgA)
	// B: images, trusting A's tokens, certificates from A's Barbican API.
	cfgB := config.Default()
	cfgB.DataDir, cfgB.NoDashboard = t.TempDir(), true
	cfgB.Auth = config.AuthKeystone
	cfgB.Keystone = config.Keystone{URL: a + "/identity/v3", Username: "admin", Password: password, ProjectName: "admin",
		UserDomainName: "Default", ProjectDomainName: "Default", CacheTTL: time.Minute}
	cfgB.KeyManager = config.KeyManager{Driver: config.KeyManagerBarbican, BarbicanURL: a + "/key-manager"}
	b := serve(cfgB)

	call := caller(t, map[string]string{"X-Auth-Token": adminToken(t, a, password)})
	// B serves no key manager of its own.
	if status, _ := call(b, "GET", "/key-manager/v1/secrets", "", nil); status == http.StatusOK {
		t.Fatal("a glint with key_manager: barbican serves secrets")
	}

	signer := signtest.NewKey(t, "ec521", "signer")
	secret, _ := json.Marshal(map[string]string{"secret_type": "certificate", "payload_content_type": "text/plain",
		"payload": string(signtest.PEM(signer.CertDER))})
	status, body := call(a, "POST", "/key-manager/v1/secrets", "application/json", secret)
	var ref struct {
		Ref string `json:"secret_ref"`
	}
	if status != http.StatusCreated || json.Unmarshal(body, &ref) != nil {
		t.Fatalf("storing the certificate in A: %d %s", status, body)
	}
	certID := ref.Ref[strings.LastIndex(ref.Ref, "/")+1:]

	data := make([]byte, 1<<20+77)
	rand.Read(data)
	upload := func(name, certID string, body []byte) (string, int, []byte) {
		t.Helper()
		create, _ := json.Marshal(map[string]string{"name": name, "disk_format": "raw", "container_format": "bare",
			"img_signature": signer.SignBytes(t, data, "SHA-512"), "img_signature_hash_method": "SHA-512",
			"img_signature_key_type": "ECC_SECP521R1", "img_signature_certificate_uuid": certID})
		status, out := call(b, "POST", "/v2/images", "application/json", create)
		var img struct{ ID string }
		if status != http.StatusCreated || json.Unmarshal(out, &img) != nil {
			t.Fatalf("create on B: %d %s", status, out)
		}
		status, out = call(b, "PUT", "/v2/images/"+img.ID+"/file", "application/octet-stream", body)
		return img.ID, status, out
	}
	id, status, out := upload("verified", certID, data)
	if status != http.StatusNoContent {
		t.Fatalf("signed upload to B: %d %s", status, out)
	}
	if _, shown := call(b, "GET", "/v2/images/"+id, "", nil); !strings.Contains(string(shown), `"status": "active"`) && !strings.Contains(string(shown), `"status":"active"`) {
		t.Fatalf("image on B: %s", shown)
	}
	tampered := bytes.Clone(data)
	tampered[7] ^= 4
	if id, status, out := upload("tampered", certID, tampered); status != http.StatusBadRequest ||
		!strings.Contains(string(out), "Signature verification failed for image "+id+": Signature verification failed") {
		t.Errorf("tampered upload to B: %d %s", status, out)
	}
	const unknown = "11111111-2222-4333-8444-555555555555"
	if id, status, out := upload("unknown certificate", unknown, data); status != http.StatusBadRequest ||
		!strings.Contains(string(out), "Signature verification failed for image "+id+": Signature verification for the image failed: Certificate not found with ID: "+unknown+".") {
		t.Errorf("unknown certificate: %d %s", status, out)
	}
}
