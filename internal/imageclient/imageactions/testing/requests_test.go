package testing

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/glint-image/glint/internal/imageclient/imageactions"
)

func TestActions(t *testing.T) {
	var got []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path)
		if r.URL.Path == "/v2/images/gone/actions/deactivate" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer ts.Close()
	c := &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{}, Endpoint: ts.URL + "/",
		ResourceBase: ts.URL + "/v2/"}
	if err := imageactions.Deactivate(t.Context(), c, "img").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := imageactions.Reactivate(t.Context(), c, "img").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := imageactions.Deactivate(t.Context(), c, "gone").ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("404: %v", err)
	}
	want := []string{"POST /v2/images/img/actions/deactivate", "POST /v2/images/img/actions/reactivate",
		"POST /v2/images/gone/actions/deactivate"}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("requests %v", got)
	}
}
