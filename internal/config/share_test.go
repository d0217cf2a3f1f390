package config

import "testing"

// TestShareData: share_data is read per store; left out, file and s3
// stores share identical uploads and rbd stores do not.
func TestShareData(t *testing.T) {
	cfg := Default()
	text := "stores:\n" +
		"- {id: files, type: file, path: /srv/a}\n" +
		"- {id: objects, type: s3, s3: {endpoint: e, bucket: b}}\n" +
		"- {id: ceph, type: rbd, rbd: {pool: images}}\n" +
		"- {id: ceph-shared, type: rbd, share_data: true, rbd: {pool: images2}}\n" +
		"- {id: files-apart, type: file, path: /srv/b, share_data: false}\n" +
		"default_store: files\n"
	if err := cfg.LoadFile(writeFile(t, "glint.yaml", text)); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"files": true, "objects": true, "ceph": false, "ceph-shared": true, "files-apart": false}
	for _, st := range cfg.Stores {
		if got := st.SharesData(); got != want[st.ID] {
			t.Errorf("store %s shares data: %v, want %v", st.ID, got, want[st.ID])
		}
	}
}
