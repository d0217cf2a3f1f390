package image

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/diskformat"
)

// source is where the data of an import is read from on its way into the
// stores, and what the steps before learnt about it.
type source struct {
	open func(ctx context.Context) (io.ReadCloser, error)
	size int64 // -1 when unknown
	// The formats and virtual size to record, and whether a plugin
	// already inspected the data in its final form.
	disk, container string
	virtual         int64
	inspected       bool
	// props are added to the image with its data (plugins, glance-download).
	props map[string]string
	// digest is the md5 and sha512 the data must have (copy-image), "" when
	// unknown.
	md5, sha512 string
}

// acquire gets the data of the import to where the next steps read it.
func (j *importJob) acquire(ctx context.Context, img *Image) (*source, error) {
	src := &source{disk: deref(img.DiskFormat), container: deref(img.ContainerFormat), props: map[string]string{}}
	switch j.method {
	case MethodGlanceDirect:
		info, err := j.s.opts.Import.Staging.Stat(ctx, j.s.stagingKey(j.id))
		if errors.Is(err, blob.ErrNotFound) {
			return nil, fmt.Errorf("the staged data of image %s is gone; stage it again", j.id)
		}
		if err != nil {
			return nil, err
		}
		src.size = info.Size
	case MethodWebDownload:
		n, err := j.download(ctx, j.uri, Fetch{}, -1, j.checksum)
		if err != nil {
			return nil, err
		}
		src.size = n
	case MethodGlanceDownload:
		if err := j.glanceDownload(ctx, src); err != nil {
			return nil, err
		}
	case MethodCopyImage:
		return j.existingData(img)
	default:
		return nil, fmt.Errorf("unknown import method %q", j.method)
	}
	src.open = j.openStaged
	return src, nil
}

func (j *importJob) openStaged(ctx context.Context) (io.ReadCloser, error) {
	return j.s.opts.Import.Staging.Reader(ctx, j.s.stagingKey(j.id), 0)
}

// existingData reads an active image's data for copy-image: from the
// default store when it holds a copy, else from the first that does.
func (j *importJob) existingData(img *Image) (*source, error) {
	locs := img.Locations()
	if len(locs) == 0 || img.Size == nil {
		return nil, errors.New("Image not found in any configured store")
	}
	loc := img.locationIn(j.s.stores.Default)
	if loc == "" {
		loc = locs[0]
	}
	driver, key, err := j.s.driverFor(loc)
	if err != nil {
		return nil, err
	}
	return &source{
		open: func(ctx context.Context) (io.ReadCloser, error) { return driver.Reader(ctx, key, 0) },
		size: *img.Size, disk: deref(img.DiskFormat), container: deref(img.ContainerFormat),
		inspected: true, md5: img.Checksum, sha512: img.HashValue,
	}, nil
}

// download fetches uri into the staging store: at most the size cap, all
// of size when that is known (else what the server announced), and
// matching checksum ("algo:hex") when given.
func (j *importJob) download(ctx context.Context, uri string, how Fetch, size int64, checksum string) (int64, error) {
	verify, err := newChecksum(checksum)
	if err != nil {
		return 0, err
	}
	body, announced, err := j.s.opts.Import.Fetcher.Open(ctx, uri, how)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	if size < 0 {
		size = announced
	}
	if size > j.s.opts.SizeCap {
		return 0, fmt.Errorf("the image at %s is larger than the size cap (%d bytes)", uri, j.s.opts.SizeCap)
	}
	w, err := j.s.opts.Import.Staging.Writer(ctx, j.s.stagingKey(j.id))
	if err != nil {
		return 0, err
	}
	blob.HintSize(w, size) // what the import or the server declared; -1 when neither
	p := j.progress(ctx, "download", size)
	var in io.Reader = &countingReader{r: body, p: p}
	if verify != nil {
		in = io.TeeReader(in, verify.h)
	}
	n, err := copyLimited(w, in, j.s.opts.SizeCap, errTooBig)
	p.finish()
	switch {
	case errors.Is(err, errTooBig):
		err = fmt.Errorf("the image at %s is larger than the size cap (%d bytes)", uri, j.s.opts.SizeCap)
	case err != nil:
		var be *bodyError
		if errors.As(err, &be) {
			err = be.err
		}
		err = fmt.Errorf("downloading %s: %w", uri, err)
	case size >= 0 && n != size:
		err = fmt.Errorf("downloaded data size %d is different from expected %d", n, size)
	case verify != nil && !verify.ok():
		err = fmt.Errorf("the data downloaded from %s does not match its %s checksum", uri, verify.algo)
	}
	if err == nil {
		err = w.Commit(ctx)
	}
	if err != nil {
		w.Cancel(context.WithoutCancel(ctx))
		return 0, err
	}
	return n, nil
}

// checksum verifies a download against "algo:hex".
type checksum struct {
	algo, want string
	h          hash.Hash
}

func newChecksum(spec string) (*checksum, error) {
	if spec == "" {
		return nil, nil
	}
	algo, want, ok := strings.Cut(spec, ":")
	algo, want = strings.ToLower(algo), strings.ToLower(want)
	hashes := map[string]func() hash.Hash{"md5": md5.New, "sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New}
	newHash, known := hashes[algo]
	if !ok || !known {
		return nil, fmt.Errorf("checksum %q is not algo:hex with algo one of md5, sha1, sha256, sha512", spec)
	}
	return &checksum{algo: algo, want: want, h: newHash()}, nil
}

func (c *checksum) ok() bool { return hex.EncodeToString(c.h.Sum(nil)) == c.want }

// prepare runs the import plugins on a local copy of the staged data.
// Without plugins (and always for copy-image) the data goes to the stores
// as it is.
func (j *importJob) prepare(ctx context.Context, img *Image, src *source) (*source, error) {
	plugins := j.s.opts.Import.Plugins
	if len(plugins) == 0 || j.method == MethodCopyImage {
		return src, nil
	}
	dir, err := j.workPath()
	if err != nil {
		return nil, err
	}
	maxSize, why, err := j.outputLimit(ctx, img)
	if err != nil {
		return nil, err
	}
	w := &Work{ImageID: j.id, Path: filepath.Join(dir, "data"), Dir: dir, MaxSize: maxSize, MaxSizeWhy: why,
		DiskFormat: src.disk, ContainerFormat: src.container,
		Roles: j.caller.Roles, Properties: img.Properties, SetProperties: map[string]string{}, Formats: j.s.opts.Formats}
	if w.Size, err = j.copyToLocal(ctx, src, w.Path); err != nil {
		return nil, err
	}
	for _, p := range plugins {
		if err := p.Apply(ctx, w); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("import plugin %s: %w", p.Name(), err)
		}
	}
	path := w.Path
	for k, v := range src.props {
		if _, ok := w.SetProperties[k]; !ok {
			w.SetProperties[k] = v
		}
	}
	return &source{
		open: func(context.Context) (io.ReadCloser, error) { return os.Open(path) },
		size: w.Size, disk: w.DiskFormat, container: w.ContainerFormat, virtual: w.VirtualSize,
		inspected: w.Inspected, props: w.SetProperties,
	}, nil
}

// outputLimit is the most data the plugins may write: the size cap, or
// the room left in the owner's image_size_total when that is less, so a
// small compressed file cannot fill the node's disk with its content.
func (j *importJob) outputLimit(ctx context.Context, img *Image) (int64, string, error) {
	limit, why := j.s.opts.SizeCap, fmt.Sprintf("the size cap (%d bytes)", j.s.opts.SizeCap)
	if img.Owner == nil {
		return limit, why, nil
	}
	remaining, quota, err := j.s.remainingBytes(ctx, *img.Owner, QuotaImageSizeTotal)
	if err != nil {
		return 0, "", err
	}
	if remaining >= 0 && remaining < limit {
		limit = remaining
		why = fmt.Sprintf("the %d bytes project %s has left of its image_size_total (%d MiB)", remaining, *img.Owner, quota)
	}
	return limit, why, nil
}

// copyToLocal copies the staged data into a local file for the plugins.
func (j *importJob) copyToLocal(ctx context.Context, src *source, path string) (int64, error) {
	rd, err := src.open(ctx)
	if err != nil {
		return 0, err
	}
	defer rd.Close()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	p := j.progress(ctx, "prepare", src.size)
	n, err := io.Copy(f, &countingReader{r: rd, p: p})
	p.finish()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && src.size >= 0 && n != src.size {
		err = fmt.Errorf("the staged data changed size (%d bytes, expected %d)", n, src.size)
	}
	return n, err
}

// toStores writes the data into every target store and records it,
// activating the image as Glance does: at the last store when all must
// succeed, at the first that does otherwise.
func (j *importJob) toStores(ctx context.Context, img *Image, src *source) error {
	if _, err := j.image(ctx); err != nil {
		return err // deleted while the data was fetched
	}
	if err := j.checkSizeQuota(ctx, img, src.size); err != nil {
		return err
	}
	if err := j.prepareSignature(ctx, img); err != nil {
		return err
	}
	var first *UploadResult
	stored := 0
	for i, st := range j.stores {
		if img.locationIn(st) != "" {
			stored++ // done by an earlier run of this task
			continue
		}
		res, err := j.writeStore(ctx, st, src, first)
		if err != nil {
			var rej *diskformat.Rejection
			// Data refused as invalid (unsafe, a signature that does not
			// match) is refused by every store alike.
			if ctx.Err() != nil || errors.As(err, &rej) || errors.Is(err, ErrInvalid) || j.mustSucceed || errors.Is(err, errDeleted) {
				return err
			}
			j.log.WarnContext(ctx, "import into a store failed; carrying on since all_stores_must_succeed is false", "store", st, "err", err)
			j.failed = append(j.failed, st)
			if err := j.update(ctx, j.storeDone(img, st, false)); err != nil {
				return err
			}
			continue
		}
		u := j.storeDone(img, st, true)
		if first == nil && j.method != MethodCopyImage {
			u.Size, u.Checksum, u.HashAlgo, u.HashValue = &res.Size, res.Checksum, res.HashAlgo, res.HashValue
			u.VirtualSize = res.VirtualSize
			u.DiskFormat, u.ContainerFormat = &src.disk, &src.container
			for k, v := range src.props {
				u.SetProps[k] = v
			}
		}
		last := i == len(j.stores)-1
		if j.method != MethodCopyImage && img.Status == StatusImporting && (!j.mustSucceed || last) {
			u.IfStatus, u.Status = []Status{StatusImporting}, StatusActive
		}
		loc, err := j.record(ctx, st, u, res)
		if err != nil {
			return err
		}
		j.recorded = append(j.recorded, loc)
		if first == nil {
			first = &res
		}
		stored++
		if u.Status == StatusActive {
			img.Status = StatusActive
		}
	}
	if stored == 0 {
		return errors.New("None of the uploads finished!")
	}
	return nil
}

// record writes one store's copy into the image with u. Where the store
// shares data, the image refers to identical data already there, if
// any, as an upload's does (recordUpload), and its own copy goes; the
// location recorded is returned. A failure records nothing and drops
// the copy.
func (j *importJob) record(ctx context.Context, st string, u ImportUpdate, res UploadResult) (string, error) {
	cleanup := context.WithoutCancel(ctx)
	if !j.s.stores.shares(st) {
		u.AddLocations = []string{res.Location}
		if err := j.update(ctx, u); err != nil {
			j.s.discard(cleanup, res.Location)
			return "", err
		}
		return res.Location, nil
	}
	loc, err := j.s.store.ImportShared(ctx, j.id, j.t.ID, u, res, j.s.now())
	if err != nil {
		j.s.releaseData(cleanup, j.id, res.Location)
		return "", importUpdateError(err)
	}
	if loc != res.Location {
		// Nothing refers to the copy: it was never recorded. Released
		// rather than deleted: should its key be data others share (an
		// earlier copy of this image's, kept for them), it stays theirs.
		j.s.releaseData(cleanup, j.id, res.Location)
		j.log.InfoContext(ctx, "import shares identical data", "store", st, "location", loc, "bytes", res.Size)
	}
	return loc, nil
}

// storeDone is the record change when one store is done: it leaves the
// importing list, and joins the failed one if it failed.
func (j *importJob) storeDone(img *Image, st string, ok bool) ImportUpdate {
	u := ImportUpdate{SetProps: map[string]string{}}
	if !j.s.multiStore() {
		return u
	}
	importing := storeList(img.Properties[propImportingStores])
	importing = slices.DeleteFunc(importing, func(s string) bool { return s == st })
	img.Properties[propImportingStores] = joinStores(importing)
	u.SetProps[propImportingStores] = img.Properties[propImportingStores]
	if !ok {
		img.Properties[propFailedStores] = joinStores(append(storeList(img.Properties[propFailedStores]), st))
		u.SetProps[propFailedStores] = img.Properties[propFailedStores]
	}
	return u
}

// checkSizeQuota refuses data the owner's image_size_total has no room
// for (an import learns the size only once the data is in).
func (j *importJob) checkSizeQuota(ctx context.Context, img *Image, size int64) error {
	if j.method == MethodCopyImage || img.Owner == nil || size < 0 {
		return nil
	}
	remaining, limit, err := j.s.remainingBytes(ctx, *img.Owner, QuotaImageSizeTotal)
	if err != nil || remaining < 0 || size <= remaining {
		return err
	}
	return fmt.Errorf("Image exceeds the storage quota: project %s may store %d MiB (image_size_total) and this image would pass it",
		*img.Owner, limit)
}

// writeStore copies the data into one store. The first copy is hashed
// and, unless a plugin did it already, inspected like an upload; later
// copies must hash the same.
func (j *importJob) writeStore(ctx context.Context, st string, src *source, first *UploadResult) (UploadResult, error) {
	driver := j.s.stores.Drivers[st]
	rd, err := src.open(ctx)
	if err != nil {
		return UploadResult{}, err
	}
	defer rd.Close()
	w, err := driver.Writer(ctx, j.id)
	if err != nil {
		return UploadResult{}, err
	}
	blob.HintSize(w, src.size)
	d := newDigester(signatureHashes(j.sig)...)
	defer d.close()
	var inspector *diskformat.Inspector
	var dst io.Writer = w
	if first == nil && !src.inspected {
		inspector = diskformat.New()
		dst = io.MultiWriter(w, inspector)
	}
	p := j.progress(ctx, "store:"+st, src.size)
	n, err := copyHashed(dst, &countingReader{r: rd, p: p}, d, j.s.opts.SizeCap, errTooBig)
	p.finish()
	res := UploadResult{Size: n, Checksum: d.md5Hex(), HashAlgo: HashAlgo, HashValue: d.sha512Hex(), Location: location(st, j.id)}
	if err == nil && src.size >= 0 && n != src.size {
		err = fmt.Errorf("store %s received %d bytes of %d", st, n, src.size)
	}
	if err == nil {
		err = verifySignature(j.id, j.sig, d)
	}
	if err == nil && inspector != nil {
		var virtual int64
		virtual, err = inspector.Report().Check(src.disk, src.container, j.s.opts.Formats)
		if err == nil && virtual > 0 {
			res.VirtualSize = &virtual
		}
	} else if err == nil && src.virtual > 0 {
		res.VirtualSize = &src.virtual
	}
	if err == nil {
		err = j.sameData(st, res, src, first)
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		j.written = append(j.written, res.Location)
		err = w.Commit(ctx)
	}
	if err != nil {
		w.Cancel(context.WithoutCancel(ctx))
		return UploadResult{}, j.storeError(ctx, st, err)
	}
	return res, nil
}

// storeError words a failure to write into a store for the image's owner:
// inspection refusals and reading errors as they are, a store's own error
// (which may name paths and endpoints) only in the log.
func (j *importJob) storeError(ctx context.Context, st string, err error) error {
	var rej *diskformat.Rejection
	var be *bodyError
	switch {
	case errors.As(err, &rej), ctx.Err() != nil:
		return err
	case errors.As(err, &be):
		return fmt.Errorf("reading the image data: %w", be.err)
	case errors.Is(err, errTooBig):
		return fmt.Errorf("the image is larger than the size cap (%d bytes)", j.s.opts.SizeCap)
	}
	var de *Error
	if errors.As(err, &de) {
		return err
	}
	j.log.ErrorContext(ctx, "writing imported data into a store", "store", st, "err", err)
	if !j.s.multiStore() {
		return errors.New("the image store could not take the data; try again later")
	}
	return fmt.Errorf("store %s could not take the data; try again later", st)
}

// sameData checks a copy against what it must be: the first copy of this
// import, or the image's own checksums (copy-image).
func (j *importJob) sameData(st string, res UploadResult, src *source, first *UploadResult) error {
	switch {
	case first != nil && (res.Checksum != first.Checksum || res.HashValue != first.HashValue):
		return fmt.Errorf("the data read for store %s differs from the first copy", st)
	case src.sha512 != "" && res.HashValue != src.sha512, src.md5 != "" && res.Checksum != src.md5:
		return errors.New("the image data read from its store does not match the image's checksums")
	}
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
