package image_test

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/blob/filesystem"
	"github.com/glint-image/glint/internal/blob/s3"
	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/policy"
	"github.com/glint-image/glint/internal/sqlstore/postgres"
	"github.com/glint-image/glint/internal/sqlstore/postgres/pgtest"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
	"github.com/glint-image/glint/internal/testenv"
)

// records are the record stores sharing is tested on: the embedded
// SQLite and PostgreSQL (each test gets its own schema).
var records = map[string]func(t *testing.T) image.Store{
	"sqlite": func(t *testing.T) image.Store {
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "glint.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	},
	"postgres": func(t *testing.T) image.Store {
		st, err := postgres.Open(t.Context(), pgtest.Schema(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	},
}

// fileStore is a file store in a fresh directory.
func fileStore(t *testing.T) blob.Driver {
	d, err := filesystem.New(filepath.Join(t.TempDir(), "images"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// s3Store is an S3 store under a fresh prefix of the test server's
// bucket (.ci/s3.sh), or the test is skipped (failed under CI).
func s3Store(t *testing.T) blob.Driver {
	return s3StoreVia(t, nil)
}

// s3StoreVia is s3Store with the driver's requests sent through via
// (nil: straight to the server), the proxy that notes them.
func s3StoreVia(t *testing.T, via func(endpoint string) string) blob.Driver {
	endpoint, access, secret := os.Getenv("GLINT_TEST_S3_ENDPOINT"), os.Getenv("GLINT_TEST_S3_ACCESS_KEY"), os.Getenv("GLINT_TEST_S3_SECRET_KEY")
	if endpoint == "" || access == "" || secret == "" {
		testenv.Missing(t, "no S3 server: set GLINT_TEST_S3_ENDPOINT, GLINT_TEST_S3_ACCESS_KEY and GLINT_TEST_S3_SECRET_KEY (.ci/s3.sh)")
	}
	driverEndpoint := endpoint
	if via != nil {
		driverEndpoint = via(endpoint)
	}
	prefix := "sharing-" + strings.ToLower(fmt.Sprint(rand.Uint64())) + "/"
	d, err := s3.New(t.Context(), s3.Config{Endpoint: driverEndpoint, Bucket: "glint-image-test", Prefix: prefix,
		AccessKey: access, SecretKey: secret, PathStyle: true, CreateBucket: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Whatever a failed test left under its prefix goes.
		raw, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(access, secret, ""), BucketLookup: minio.BucketLookupPath})
		if err != nil {
			return
		}
		for obj := range raw.ListObjects(t.Context(), "glint-image-test", minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			raw.RemoveObject(t.Context(), "glint-image-test", obj.Key, minio.RemoveObjectOptions{})
		}
	})
	return d
}

// sharingService is an image service with one store, "default".
func sharingService(t *testing.T, st image.Store, d blob.Driver, share bool) *image.Service {
	t.Helper()
	return sharingServiceOpts(t, st, d, share, image.Options{})
}

func sharingServiceOpts(t *testing.T, st image.Store, d blob.Driver, share bool, opts image.Options) *image.Service {
	t.Helper()
	authz, err := policy.New(policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := image.NewService(st, image.Stores{Drivers: map[string]blob.Driver{"default": d}, Default: "default",
		Shared: map[string]bool{"default": share}}, authz, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func member(project string) caller.Principal {
	return caller.Principal{UserID: "u-" + project, ProjectID: project, Roles: []string{"member", "reader"}}
}

// uploadImage creates an image in p's project and uploads data to it.
func uploadImage(t testing.TB, svc *image.Service, p caller.Principal, data []byte) (string, error) {
	img, err := svc.Create(t.Context(), p, map[string]any{"name": "shared", "disk_format": "raw", "container_format": "bare"})
	if err != nil {
		return "", err
	}
	return img.ID, svc.Upload(t.Context(), p, img.ID, "", bytes.NewReader(data), int64(len(data)))
}

// wantData fails unless the image downloads as data, with its record's
// size and sha512 those of data.
func wantData(t testing.TB, svc *image.Service, p caller.Principal, id string, data []byte) {
	t.Helper()
	d, err := svc.Download(t.Context(), p, id, nil)
	if err != nil {
		t.Errorf("Download(%s): %v", id, err)
		return
	}
	got, err := io.ReadAll(d.Body)
	d.Body.Close()
	sum := sha512.Sum512(data)
	switch {
	case err != nil:
		t.Errorf("reading %s: %v", id, err)
	case !bytes.Equal(got, data):
		t.Errorf("image %s holds %d other bytes, want its %d", id, len(got), len(data))
	case *d.Image.Size != int64(len(data)) || d.Image.HashValue != hex.EncodeToString(sum[:]):
		t.Errorf("image %s records size %d, sha512 %s…", id, *d.Image.Size, d.Image.HashValue[:16])
	}
}

// sizeUsage is what p's project uses of image_size_total (MiB).
func sizeUsage(t testing.TB, svc *image.Service, p caller.Principal) int64 {
	t.Helper()
	q, err := svc.Usage(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range q {
		if u.Name == image.QuotaImageSizeTotal {
			return u.Usage
		}
	}
	t.Fatalf("no %s in %+v", image.QuotaImageSizeTotal, q)
	return 0
}

func usage(t testing.TB, d blob.Driver) blob.Usage {
	t.Helper()
	u, err := d.(blob.UsageReporter).Usage(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestTenProjectsOneCopy: ten projects uploading the same image use at
// most 1.1× one copy of the store; each image keeps its size, checksums
// and quota usage; deleting images, the first uploader's included, keeps
// the data the others use, and the last deletion removes it.
func TestTenProjectsOneCopy(t *testing.T) {
	data := make([]byte, 8<<20)
	rand.NewChaCha8([32]byte{3}).Read(data)
	for _, store := range []string{"file", "s3"} {
		for _, rec := range []string{"sqlite", "postgres"} {
			t.Run(store+"/"+rec, func(t *testing.T) {
				d := map[string]func(*testing.T) blob.Driver{"file": fileStore, "s3": s3Store}[store](t)
				st := records[rec](t)
				svc := sharingService(t, st, d, true)
				ids := make([]string, 10)
				for i := range ids {
					id, err := uploadImage(t, svc, member(fmt.Sprint("project-", i)), data)
					if err != nil {
						t.Fatalf("upload %d: %v", i, err)
					}
					ids[i] = id
				}
				u := usage(t, d)
				t.Logf("ten uploads of %d bytes: %d blob(s), %d bytes in the store", len(data), u.Blobs, u.Physical)
				if limit := int64(len(data)) * 11 / 10; u.Physical > limit || u.Blobs != 1 {
					t.Errorf("ten uploads of %d bytes take %+v in the store, want one blob of at most %d bytes", len(data), u, limit)
				}
				sharing, err := st.DataSharing(t.Context())
				if err != nil || len(sharing) != 1 || sharing[0].Saved != 9*int64(len(data)) || sharing[0].Images != 10 {
					t.Errorf("DataSharing = %+v, %v; want 9×%d bytes saved by 10 images", sharing, err, len(data))
				}
				for i, id := range ids {
					p := member(fmt.Sprint("project-", i))
					wantData(t, svc, p, id, data)
					if got := sizeUsage(t, svc, p); got != int64(len(data))>>20 {
						t.Errorf("project %d uses %d MiB of image_size_total, want its image's %d", i, got, len(data)>>20)
					}
				}
				for i, id := range ids[:9] {
					if err := svc.Delete(t.Context(), member(fmt.Sprint("project-", i)), id); err != nil {
						t.Fatal(err)
					}
					wantData(t, svc, member("project-9"), ids[9], data)
				}
				if u := usage(t, d); u.Blobs != 1 {
					t.Errorf("after nine deletions the store holds %d blobs, want 1", u.Blobs)
				}
				if err := svc.Delete(t.Context(), member("project-9"), ids[9]); err != nil {
					t.Fatal(err)
				}
				if u := usage(t, d); u.Blobs != 0 {
					t.Errorf("with every image deleted the store holds %d blobs", u.Blobs)
				}
			})
		}
	}
}

// TestSharingOff: a store without sharing keeps each upload's copy.
func TestSharingOff(t *testing.T) {
	d := fileStore(t)
	svc := sharingService(t, records["sqlite"](t), d, false)
	data := []byte(strings.Repeat("same bytes ", 1000))
	for i := range 3 {
		if _, err := uploadImage(t, svc, member(fmt.Sprint("p", i)), data); err != nil {
			t.Fatal(err)
		}
	}
	if u := usage(t, d); u.Blobs != 3 {
		t.Errorf("three uploads without sharing left %d blobs, want 3", u.Blobs)
	}
}

// TestSharedUploadDeleteRace uploads the same data from several projects
// while deleting images holding it, the first uploader's too, so that
// adopting data races with releasing its last reference. Every image left
// reads back whole, and once all are deleted the store is empty: no data
// went while referenced, none was left behind. Run it under -race.
func TestSharedUploadDeleteRace(t *testing.T) {
	data := make([]byte, 256<<10)
	rand.NewChaCha8([32]byte{4}).Read(data)
	for _, rec := range []string{"sqlite", "postgres"} {
		t.Run(rec, func(t *testing.T) {
			d := fileStore(t)
			svc := sharingService(t, records[rec](t), d, true)
			const workers, rounds = 4, 12
			kept := make([][]string, workers)
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					p := member(fmt.Sprint("race-", w))
					var mine []string
					for r := range rounds {
						id, err := uploadImage(t, svc, p, data)
						if err != nil {
							t.Errorf("worker %d round %d: upload: %v", w, r, err)
							return
						}
						mine = append(mine, id)
						// Delete the older image most rounds, so the one
						// whose data others adopted goes while they adopt.
						if r%3 != 2 && len(mine) > 1 {
							if err := svc.Delete(t.Context(), p, mine[0]); err != nil {
								t.Errorf("worker %d round %d: delete: %v", w, r, err)
								return
							}
							mine = mine[1:]
						}
					}
					kept[w] = mine
				})
			}
			wg.Wait()
			for w, ids := range kept {
				for _, id := range ids {
					wantData(t, svc, member(fmt.Sprint("race-", w)), id, data)
				}
			}
			// One record of the data at most (its unique index), and
			// every copy no record names was removed: one blob.
			if u := usage(t, d); u.Blobs != 1 {
				t.Errorf("store holds %d blobs for the images left, want 1", u.Blobs)
			}
			for w, ids := range kept {
				for _, id := range ids {
					if err := svc.Delete(t.Context(), member(fmt.Sprint("race-", w)), id); err != nil {
						t.Fatal(err)
					}
				}
			}
			if u := usage(t, d); u.Blobs != 0 {
				t.Errorf("with every image deleted the store holds %d blobs", u.Blobs)
			}
		})
	}
}

// TestSharedDataNotALocation: with show_multiple_locations, a location
// naming shared data (here left by a deleted image, still used by
// another) is refused: a record holding it without a reference would
// lose it when the images sharing it go. S3 is the store whose URLs map
// back to keys.
func TestSharedDataNotALocation(t *testing.T) {
	d := s3Store(t)
	svc := sharingServiceOpts(t, records["sqlite"](t), d, true, image.Options{ShowMultipleLocations: true})
	data := []byte(strings.Repeat("shared by two ", 4096))
	first, err := uploadImage(t, svc, member("a"), data)
	if err != nil {
		t.Fatal(err)
	}
	second, err := uploadImage(t, svc, member("b"), data)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Delete(t.Context(), member("a"), first); err != nil {
		t.Fatal(err)
	}
	img, err := svc.Create(t.Context(), member("c"), map[string]any{"name": "c", "disk_format": "raw", "container_format": "bare"})
	if err != nil {
		t.Fatal(err)
	}
	url := d.(blob.Locator).URL(first)
	_, err = svc.Update(t.Context(), member("c"), img.ID, []image.Change{{Op: "add", Attr: "locations/-",
		Value: map[string]any{"url": url, "metadata": map[string]any{}}}})
	if !errors.Is(err, image.ErrConflict) {
		t.Errorf("adding the location of shared data: %v, want a conflict", err)
	}
	wantData(t, svc, member("b"), second, data)
}

// TestSharedDataLocationMetadata: metadata the locations API attaches to
// an image's location of shared data changes nothing about the sharing:
// deleting that image drops its reference, the other image keeps the
// data, and the last deletion removes it.
func TestSharedDataLocationMetadata(t *testing.T) {
	d := fileStore(t)
	svc := sharingServiceOpts(t, records["sqlite"](t), d, true, image.Options{ShowMultipleLocations: true})
	data := []byte(strings.Repeat("kept with metadata ", 4096))
	first, err := uploadImage(t, svc, member("a"), data)
	if err != nil {
		t.Fatal(err)
	}
	second, err := uploadImage(t, svc, member("b"), data)
	if err != nil {
		t.Fatal(err)
	}
	url := d.(blob.Locator).URL(first) // the second image's data is the first's
	img, err := svc.Update(t.Context(), member("b"), second, []image.Change{{Op: "replace", Attr: "locations",
		Value: []any{map[string]any{"url": url, "metadata": map[string]any{"note": "mirrored"}}}}})
	if err != nil {
		t.Fatalf("replacing the location's metadata: %v", err)
	}
	if !strings.Contains(img.Location, "?") {
		t.Fatalf("location %q keeps no metadata", img.Location)
	}
	if err := svc.Delete(t.Context(), member("b"), second); err != nil {
		t.Fatal(err)
	}
	wantData(t, svc, member("a"), first, data)
	if err := svc.Delete(t.Context(), member("a"), first); err != nil {
		t.Fatal(err)
	}
	if u := usage(t, d); u.Blobs != 0 {
		t.Errorf("with both images deleted the store holds %d blobs", u.Blobs)
	}
}
