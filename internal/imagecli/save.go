package imagecli

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/imageclient"
)

func (a *app) saveCommand() *cobra.Command {
	var file string
	var chunkSize int
	cmd := &cobra.Command{
		Use:   "save IMAGE",
		Short: "Save an image locally",
		Args:  cobra.ExactArgs(1),
	}
	cmd.Flags().StringVar(&file, "file", "", "downloaded image save filename (default: stdout)")
	cmd.Flags().IntVar(&chunkSize, "chunk-size", 1024, "accepted for openstackclient compatibility; data is streamed")
	cmd.RunE = a.imageAction(nil, func(ctx context.Context, s *session, rec record) error {
		if file == "" {
			return a.download(ctx, s.image, rec, a.out)
		}
		return a.saveFile(ctx, s.image, rec, file)
	})
	return cmd
}

// saveFile downloads into a new file beside the target and renames it
// into place only once the data matches the record: an interrupted or
// corrupted download never leaves a partial file under the target name.
func (a *app) saveFile(ctx context.Context, c *gophercloud.ServiceClient, rec record, target string) error {
	tmp, err := createPart(target)
	if err != nil {
		return err
	}
	saved := false
	defer func() {
		if !saved {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := a.download(ctx, c, rec, tmp); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return err
	}
	saved = true
	return nil
}

// createPart makes an empty file next to target, with the permissions a
// plain create would give (the umask applies).
func createPart(target string) (*os.File, error) {
	dir, base := filepath.Split(target)
	for range 10 {
		name := filepath.Join(dir, "."+base+".part-"+rand.Text()[:8])
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, os.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("cannot create a temporary file beside %s", target)
}

// download streams the image data to w, hashing it on the way, and
// checks size, md5 checksum and os_hash_value against the record.
func (a *app) download(ctx context.Context, c *gophercloud.ServiceClient, rec record, w io.Writer) error {
	id := str(rec["id"])
	body, err := imagedata.Download(ctx, c, id).Extract()
	if imageclient.IsStatus(err, http.StatusNoContent) {
		return fmt.Errorf("image %s has no data (status %s)", id, imageclient.EscapeText(str(rec["status"])))
	}
	if err != nil {
		return imageclient.Describe(err)
	}
	defer body.Close()
	size := int64(-1)
	if n, ok := rec["size"].(float64); ok {
		size = int64(n)
	}
	bar, done := a.progress(size, "downloading")
	defer done()
	sums := newSums(rec)
	if sums.algo != "" && sums.multi == nil {
		fmt.Fprintf(a.errw, "warning: image %s: os_hash_algo %s is not known here; only the md5 checksum is verified\n",
			id, imageclient.EscapeText(sums.algo))
	}
	n, err := io.Copy(io.MultiWriter(w, sums, bar), body)
	if err != nil {
		return fmt.Errorf("downloading image %s: %w", id, err)
	}
	if size >= 0 && n != size {
		return fmt.Errorf("image %s: received %d bytes, the image record says %d", id, n, size)
	}
	return sums.verify(id)
}

// sums hashes downloaded data with md5 (Glance's "checksum") and the
// record's os_hash_algo (sha512 by default).
type sums struct {
	io.Writer
	md5       hash.Hash
	multi     hash.Hash
	wantMD5   string
	algo      string
	wantMulti string
}

func newSums(rec record) *sums {
	s := &sums{md5: md5.New(), wantMD5: str(rec["checksum"]), algo: str(rec["os_hash_algo"]),
		wantMulti: str(rec["os_hash_value"])}
	switch s.algo {
	case "sha512":
		s.multi = sha512.New()
	case "sha384":
		s.multi = sha512.New384()
	case "sha256":
		s.multi = sha256.New()
	}
	if s.multi != nil {
		s.Writer = io.MultiWriter(s.md5, s.multi)
	} else {
		s.Writer = s.md5
	}
	return s
}

func (s *sums) verify(id string) error {
	if got := hex.EncodeToString(s.md5.Sum(nil)); s.wantMD5 != "" && got != s.wantMD5 {
		return fmt.Errorf("image %s: the data's md5 checksum is %s, the image record says %s", id, got, imageclient.EscapeText(s.wantMD5))
	}
	if s.multi == nil {
		return nil
	}
	if got := hex.EncodeToString(s.multi.Sum(nil)); s.wantMulti != "" && got != s.wantMulti {
		return fmt.Errorf("image %s: the data's %s hash is %s, the image record says %s", id, s.algo, got, imageclient.EscapeText(s.wantMulti))
	}
	return nil
}
