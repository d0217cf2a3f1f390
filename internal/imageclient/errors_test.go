package imageclient

import "testing"

func TestServerMessage(t *testing.T) {
	for body, want := range map[string]string{
		`{"message": "Image is protected<br /><br />\n\n", "code": "403 Forbidden", "title": "Forbidden"}`:                   "Image is protected",
		`{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}`: "The request you have made requires authentication.",
		"404 Not Found\n\nNo image found with ID x\n\n   ":                                                                   "No image found with ID x",
		"<html><body><h1>502 Bad Gateway</h1>\x1b[2J</body></html>":                                                          `502 Bad Gateway \x1b[2J`,
	} {
		if got := serverMessage([]byte(body)); got != want {
			t.Errorf("serverMessage(%q) = %q, want %q", body, got, want)
		}
	}
}
