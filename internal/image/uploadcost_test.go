package image_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/glint-image/glint/internal/blob/s3/s3test"
	"github.com/glint-image/glint/internal/image"
)

// TestUploadRequestsS3 counts what uploads cost on a real S3 server. A
// plain upload that fits in one part is one PUT, sharing on or off (it
// once was a multipart upload created and aborted around the PUT, plus a
// listing). A plain upload cut off part way keeps what came, as before
// (a multipart upload and its tail, nothing visible as image data, the
// image queued), and a plain upload after it starts over and finishes,
// leaving nothing of the cut one behind.
func TestUploadRequestsS3(t *testing.T) {
	var log *s3test.RequestLog
	d := s3StoreVia(t, func(endpoint string) string {
		log = s3test.NewRequestLog(t, endpoint)
		return log.Addr
	})
	data := randomData(1<<20+9, 5)
	for _, share := range []bool{false, true} {
		svc := sharingService(t, records["sqlite"](t), d, share)
		p := member("cost")
		img, err := svc.Create(t.Context(), p, map[string]any{"name": "small", "disk_format": "raw", "container_format": "bare"})
		if err != nil {
			t.Fatal(err)
		}
		log.Take()
		if err := svc.Upload(t.Context(), p, img.ID, "", bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatalf("upload: %v", err)
		}
		if got := log.Take(); !slices.Equal(got, []string{"PUT object"}) {
			t.Errorf("share_data %v: an upload of %d bytes sent %v, want one PUT", share, len(data), got)
		}
		wantData(t, svc, p, img.ID, data)

		cutOff, err := svc.Create(t.Context(), p, map[string]any{"name": "cut", "disk_format": "raw", "container_format": "bare"})
		if err != nil {
			t.Fatal(err)
		}
		log.Take()
		err = svc.Upload(t.Context(), p, cutOff.ID, "", cut(data[:4096]), int64(len(data)))
		if !errors.Is(err, image.ErrInvalid) {
			t.Fatalf("cut upload: %v, want ErrInvalid", err)
		}
		if got := log.Take(); !slices.Equal(got, []string{"POST uploads", "PUT tail"}) {
			t.Errorf("share_data %v: a cut upload sent %v, want its data kept as a partial upload", share, got)
		}
		if _, err := d.Stat(t.Context(), cutOff.ID); err == nil {
			t.Error("a cut upload left image data")
		}
		if pr, err := svc.UploadProgress(t.Context(), p, cutOff.ID); err != nil || pr.Received != 4096 {
			t.Errorf("progress of the cut upload: %+v, %v", pr, err)
		}
		if err := svc.Upload(t.Context(), p, cutOff.ID, "", bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatalf("upload after the cut one: %v", err)
		}
		wantData(t, svc, p, cutOff.ID, data)
		for _, id := range []string{img.ID, cutOff.ID} {
			if err := svc.Delete(t.Context(), p, id); err != nil {
				t.Fatal(err)
			}
		}
		if u := usage(t, d); u.Blobs != 0 {
			t.Errorf("share_data %v: with the images deleted the store holds %d objects", share, u.Blobs)
		}
	}
}
