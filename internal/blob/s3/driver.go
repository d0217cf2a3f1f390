// Package s3 stores blobs as objects in an S3-compatible bucket (AWS S3,
// Ceph RGW, MinIO, versitygw, ...), through minio-go.
//
// A blob is the object Prefix + key. Writers stream it as a multipart
// upload, which S3 keeps invisible until it is completed, so Commit is
// the completion and Cancel the abort; a blob that fits in one part is
// sent as a single PUT at Commit instead. See writer.go for how memory is
// bounded.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/glint-image/glint/internal/blob"
)

// Driver is a blob.Driver over one bucket and prefix. It is safe for
// concurrent use.
type Driver struct {
	core   *minio.Core // Core for the multipart calls; it embeds *minio.Client
	bucket string
	prefix string
	// base is the start of location URLs: s3+http(s)://endpoint/bucket/.
	base        string
	partSize    int64
	concurrency int
	// partsPerStep is the constant of that name, but tests shrink it to
	// see parts grow without writing gigabytes.
	partsPerStep int
	// bufs recycles part buffers (*[]byte of capacity partSize) between
	// writers, so a busy server does not allocate 16 MiB per part.
	bufs sync.Pool
}

var (
	_ blob.Driver  = (*Driver)(nil)
	_ blob.Sweeper = (*Driver)(nil)
)

// New validates cfg, connects, and checks that the bucket exists,
// creating it if cfg.CreateBucket is set. Checking here makes a wrong
// endpoint, credential or bucket fail at start rather than at the first
// upload.
func New(ctx context.Context, cfg Config) (*Driver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	tr, err := minio.DefaultTransport(cfg.UseTLS)
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	if cfg.InsecureSkipVerify {
		// Validate only allows this with UseTLS, so TLSClientConfig is set.
		tr.TLSClientConfig.InsecureSkipVerify = true
	}
	lookup := minio.BucketLookupDNS
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	core, err := minio.NewCore(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken),
		Secure:       cfg.UseTLS,
		Transport:    tr,
		Region:       cfg.Region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	d := &Driver{
		core:         core,
		bucket:       cfg.Bucket,
		prefix:       cfg.Prefix,
		base:         s3Scheme(cfg.UseTLS) + "://" + cfg.Endpoint + "/" + cfg.Bucket + "/",
		partSize:     cfg.PartSize,
		concurrency:  cfg.Concurrency,
		partsPerStep: partsPerStep,
	}
	if err := d.ensureBucket(ctx, cfg.Region, cfg.CreateBucket); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Driver) ensureBucket(ctx context.Context, region string, create bool) error {
	ok, err := d.core.BucketExists(ctx, d.bucket)
	switch {
	case err != nil:
		return fmt.Errorf("s3: bucket %q: %w", d.bucket, err)
	case ok:
		return nil
	case !create:
		return fmt.Errorf("s3: bucket %q does not exist (set CreateBucket to create it)", d.bucket)
	}
	err = d.core.MakeBucket(ctx, d.bucket, minio.MakeBucketOptions{Region: region})
	// Another process starting at the same time may have won the race.
	if err != nil && errorCode(err) != "BucketAlreadyOwnedByYou" {
		return fmt.Errorf("s3: create bucket %q: %w", d.bucket, err)
	}
	return nil
}

// Reader returns the object's body from offset. An offset inside the
// blob is one ranged GET; S3 answers a range starting at the end with
// 416, so only then does a Stat tell "exactly the end" (an empty reader)
// from "past the end".
//
// The body is a single HTTP response, never re-requested, so a reader
// opened before an overwrite keeps the old content if the server serves
// each GET from one version of the object: AWS S3 does, and so does
// versitygw's posix backend, whose overwrites replace the file rather
// than rewrite it.
func (d *Driver) Reader(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	object, err := d.object(key)
	if err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("s3: read %q at %d: %w", key, offset, blob.ErrInvalidOffset)
	}
	// Two tries: the blob can be replaced by a longer one between the
	// ranged GET that failed and the Stat.
	for range 2 {
		body, err := d.get(ctx, object, offset)
		if errorCode(err) != "InvalidRange" {
			if err != nil {
				return nil, d.wrap("read", key, err)
			}
			return body, nil
		}
		info, err := d.Stat(ctx, key)
		switch {
		case err != nil:
			return nil, err
		case offset == info.Size:
			return http.NoBody, nil
		case offset > info.Size:
			return nil, fmt.Errorf("s3: read %q at %d: size %d: %w", key, offset, info.Size, blob.ErrInvalidOffset)
		}
	}
	return nil, fmt.Errorf("s3: read %q at %d: blob changed while opening it", key, offset)
}

func (d *Driver) get(ctx context.Context, object string, offset int64) (io.ReadCloser, error) {
	var opts minio.GetObjectOptions
	if offset > 0 {
		if err := opts.SetRange(offset, 0); err != nil {
			return nil, err
		}
	}
	// Core.GetObject sends the request now, so a missing key is reported
	// here rather than on the first Read, as blob.Driver requires.
	body, _, _, err := d.core.GetObject(ctx, d.bucket, object, opts)
	return body, err
}

// Stat reports the object's size.
func (d *Driver) Stat(ctx context.Context, key string) (blob.Info, error) {
	object, err := d.object(key)
	if err != nil {
		return blob.Info{}, err
	}
	info, err := d.core.StatObject(ctx, d.bucket, object, minio.StatObjectOptions{})
	if err != nil {
		return blob.Info{}, d.wrap("stat", key, err)
	}
	return blob.Info{Size: info.Size}, nil
}

// Delete removes the object. S3's DELETE succeeds for missing objects
// too, so a Stat first provides the ErrNotFound the contract asks for.
func (d *Driver) Delete(ctx context.Context, key string) error {
	if _, err := d.Stat(ctx, key); err != nil {
		return err
	}
	object, _ := d.object(key) // Stat has validated key
	if err := d.core.RemoveObject(ctx, d.bucket, object, minio.RemoveObjectOptions{}); err != nil {
		return d.wrap("delete", key, err)
	}
	return nil
}

// Sweep aborts every incomplete multipart upload under the prefix: the
// uploads of writers a crashed process never committed or cancelled,
// which S3 would otherwise keep (and bill) forever. It cannot tell them
// from live uploads, so it must run before any Writer is opened, and
// only when no other process is uploading under the same bucket and
// prefix. A bucket lifecycle rule (AbortIncompleteMultipartUpload) is the
// server-side complement.
func (d *Driver) Sweep(ctx context.Context) error {
	// Cancelling stops the listing goroutine if we return early.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var errs []error
	for up := range d.core.ListIncompleteUploads(ctx, d.bucket, d.prefix, true) {
		if up.Err != nil {
			return fmt.Errorf("s3: sweep: %w", up.Err)
		}
		if d.keepPartial(ctx, up) { // resume.go
			continue
		}
		err := d.core.AbortMultipartUpload(ctx, d.bucket, up.Key, up.UploadID)
		if err != nil && errorCode(err) != "NoSuchUpload" {
			errs = append(errs, fmt.Errorf("%s (upload %s): %w", up.Key, up.UploadID, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("s3: sweep: %w", err)
	}
	return ctx.Err()
}

// abortUpload aborts one multipart upload. With recheck set, a part
// request of the upload failed, and the server may still be storing that
// part; storing it after the abort brings the upload back (AWS documents
// this, and versitygw's posix backend does it). So it then watches the
// upload for about a second, aborting it again whenever it is back.
func (d *Driver) abortUpload(ctx context.Context, object, uploadID string, recheck bool) error {
	err := d.core.AbortMultipartUpload(ctx, d.bucket, object, uploadID)
	if err != nil && errorCode(err) != "NoSuchUpload" {
		return err
	}
	if !recheck {
		return nil
	}
	for _, pause := range []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, 600 * time.Millisecond} {
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return ctx.Err()
		}
		_, err := d.core.ListObjectParts(ctx, d.bucket, object, uploadID, 0, 1)
		if errorCode(err) == "NoSuchUpload" {
			continue
		}
		if err == nil {
			err = d.core.AbortMultipartUpload(ctx, d.bucket, object, uploadID)
		}
		if err != nil && errorCode(err) != "NoSuchUpload" {
			return err
		}
	}
	return nil
}

// object maps a key to its object name, or fails with blob.ErrInvalidKey.
func (d *Driver) object(key string) (string, error) {
	if !blob.ValidKey(key) {
		return "", fmt.Errorf("s3: key %q: %w", key, blob.ErrInvalidKey)
	}
	return d.prefix + key, nil
}

// wrap describes err for op on key, translating S3's NoSuchKey into
// blob.ErrNotFound and a server that cannot be reached into
// blob.ErrUnavailable. NoSuchBucket stays an error of its own, as a
// misconfiguration rather than a missing blob, where the server can say
// so: a HEAD (Stat) response has no body, and minio-go reports any 404 on
// an object as NoSuchKey.
func (d *Driver) wrap(op, key string, err error) error {
	var netErr net.Error
	switch {
	case errorCode(err) == "NoSuchKey":
		err = blob.ErrNotFound
	case errors.As(err, &netErr), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("s3: %s %q: %w: %w", op, key, blob.ErrUnavailable, err)
	}
	return fmt.Errorf("s3: %s %q: %w", op, key, err)
}

// errorCode is the S3 error code in err ("NoSuchKey"), or "".
func errorCode(err error) string {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp.Code
	}
	return ""
}

// getBuf returns an empty part buffer of capacity size. Buffers of the
// configured part size come from the pool; the larger ones of big blobs
// are rare enough to allocate.
func (d *Driver) getBuf(size int64) []byte {
	if size == d.partSize {
		if p, ok := d.bufs.Get().(*[]byte); ok {
			return (*p)[:0]
		}
	}
	return make([]byte, 0, size)
}

// putBuf recycles b. Only call it once nothing can still read b: after a
// request that sent it has succeeded (the server has read it all), never
// after a failed one, whose body the HTTP transport may still be reading.
func (d *Driver) putBuf(b []byte) {
	if int64(cap(b)) != d.partSize {
		return
	}
	b = b[:0]
	d.bufs.Put(&b)
}

// URL is the blob's location in Glance's s3 form
// (s3+https://host/bucket/object), without the access and secret keys
// Glance writes into it: a location is shown to clients.
func (d *Driver) URL(key string) string { return d.base + d.prefix + key }

func s3Scheme(tls bool) string {
	if tls {
		return "s3+https"
	}
	return "s3+http"
}

// KeyFor maps one of this store's location URLs back to its key: glint's
// form (s3+http(s)://endpoint/bucket/key) and the one Glance writes,
// s3://access:secret@endpoint/bucket/key (s3+https:// for TLS), whose
// keys are ignored (a secret key may hold '/', so the host starts after
// the last '@'; no bucket or key holds one). The endpoint, bucket and
// prefix must be this store's.
func (d *Driver) KeyFor(url string) (string, bool, error) {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok || (scheme != "s3" && scheme != "s3+http" && scheme != "s3+https") {
		return "", false, nil
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	host, path, _ := strings.Cut(rest, "/")
	_, base, _ := strings.Cut(d.base, "://")
	wantHost, bucket, _ := strings.Cut(base, "/")
	key, ok := strings.CutPrefix(path, bucket+d.prefix)
	if !strings.EqualFold(host, wantHost) || !ok || !blob.ValidKey(key) {
		return "", true, fmt.Errorf("%s://%s/%s is not in this store's bucket (%s%s)", scheme, host, path, d.base, d.prefix)
	}
	return key, true, nil
}
