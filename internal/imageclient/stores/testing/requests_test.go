package testing

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/glint-image/glint/internal/imageclient/stores"
)

func fakeClient(t *testing.T, h http.HandlerFunc) *gophercloud.ServiceClient {
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{}, Endpoint: ts.URL + "/",
		ResourceBase: ts.URL + "/v2/"}
}

func TestList(t *testing.T) {
	c := fakeClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "GET" || r.URL.Path != "/v2/info/stores" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"stores": [{"id": "ceph", "description": "Ceph", "default": "true"}, {"id": "file", "default": false}]}`))
	})
	got, err := stores.List(t.Context(), c).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "ceph" || !got[0].Default || got[0].Description != "Ceph" || got[1].Default {
		t.Fatalf("%+v", got)
	}
}

func TestListDetail(t *testing.T) {
	c := fakeClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/info/stores/detail" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"stores": [{"id": "ceph", "type": "rbd", "default": true, "properties": {"pool": "images"}}]}`))
	})
	got, err := stores.ListDetail(t.Context(), c).Extract()
	if err != nil || len(got) != 1 || got[0].Type != "rbd" || got[0].Properties["pool"] != "images" || !got[0].Default {
		t.Fatalf("%+v %v", got, err)
	}
}

func TestListNotMultiStore(t *testing.T) {
	c := fakeClient(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Multi backend is not supported at this site.", http.StatusNotFound)
	})
	_, err := stores.List(t.Context(), c).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("err %v", err)
	}
}
