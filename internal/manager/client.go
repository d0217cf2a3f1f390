package manager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/glint-image/glint/internal/imageclient"
)

// Client is the Image API v2 calls glint manage makes, on a gophercloud
// service client made by imagecli.Connect. It speaks plain JSON so that
// every property of an image comes back as the server sent it.
type Client struct {
	image     *gophercloud.ServiceClient
	projectID string
}

// NewClient wraps a connected image service client. projectID is the
// project the token is scoped to ("" when unknown).
func NewClient(image *gophercloud.ServiceClient, projectID string) *Client {
	return &Client{image: image, projectID: projectID}
}

// record is an image as the server sent it, with the hashes the server
// computed (for verification after an import).
type record struct {
	Image
	Checksum  string
	HashAlgo  string
	HashValue string
}

func decodeImage(img *imageclient.Image) record {
	r := record{Image: Image{ID: img.ID, Name: img.Name, Status: img.Status, Visibility: img.Visibility,
		Owner: img.Owner, DiskFormat: img.DiskFormat, MinDisk: int(img.MinDisk), MinRAM: int(img.MinRAM),
		Protected: img.Protected, Hidden: img.Hidden, CreatedAt: img.CreatedAt, Tags: img.Tags,
		Properties: map[string]string{}},
		Checksum: img.Checksum, HashAlgo: img.HashAlgo, HashValue: img.HashValue}
	if img.Size != nil {
		r.Size = *img.Size
	}
	for k, v := range img.Properties {
		if img.Raw[k] != nil { // a null property is no property here
			r.Properties[k] = v
		}
	}
	return r
}

// Managed lists the images the tool would manage: carrying tag, and
// public or owned by the caller. It lists hidden images too, so that an
// image with os_hidden set is never imported a second time.
func (c *Client) Managed(ctx context.Context, tag string) ([]Image, error) {
	seen := map[string]bool{}
	var out []Image
	for _, query := range []string{"?limit=1000", "?limit=1000&os_hidden=true"} {
		err := imageclient.Each(ctx, c.image, query, func(p *imageclient.Page) (bool, error) {
			for _, img := range p.Images {
				r := decodeImage(img)
				if seen[r.ID] || !slices.Contains(r.Tags, tag) {
					continue
				}
				if r.Visibility != "public" && c.projectID != "" && r.Owner != c.projectID {
					continue
				}
				seen[r.ID] = true
				out = append(out, r.Image)
			}
			return true, nil
		})
		if err != nil {
			return nil, fmt.Errorf("listing images: %w", err)
		}
	}
	return out, nil
}

// callTimeout bounds one API call that moves no image data: a cloud that
// stops answering must not hang a scheduled run forever.
const callTimeout = 2 * time.Minute

func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, callTimeout)
}

func (c *Client) get(ctx context.Context, url string, into any) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	_, err := c.image.Get(ctx, url, into, &gophercloud.RequestOpts{OkCodes: []int{200}})
	return imageclient.Describe(err)
}

// Get reads one image.
func (c *Client) Get(ctx context.Context, id string) (record, error) {
	img, err := imageclient.Get(ctx, c.image, id)
	if err != nil {
		return record{}, err
	}
	return decodeImage(img), nil
}

// Create makes an image record from an import spec: private, with its
// properties and tags, and no data yet.
func (c *Client) Create(ctx context.Context, s *ImportSpec) (string, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	body := map[string]any{}
	for k, v := range s.Properties {
		body[k] = v
	}
	body["name"], body["disk_format"], body["container_format"] = s.Name, s.DiskFormat, "bare"
	body["min_disk"], body["min_ram"], body["visibility"] = s.MinDisk, s.MinRAM, "private"
	body["tags"] = s.Tags
	if s.ID != "" {
		body["id"] = s.ID
	}
	if s.OSHidden != nil {
		body["os_hidden"] = *s.OSHidden
	}
	var created map[string]any
	_, err := c.image.Post(ctx, c.image.ServiceURL("images"), body, &created, &gophercloud.RequestOpts{OkCodes: []int{201}})
	if err != nil {
		return "", imageclient.Describe(err)
	}
	id, _ := created["id"].(string)
	if id == "" {
		return "", errors.New("create answered without an image id")
	}
	return id, nil
}

// patchOp is one JSON-patch operation.
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// pointer escapes a property name for a JSON pointer (RFC 6901).
func pointer(key string) string {
	return "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(key)
}

// Patch applies operations in one request: Glance and glint apply a
// patch document as a whole, so an update is never half-done.
func (c *Client) Patch(ctx context.Context, id string, ops []patchOp) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	if len(ops) == 0 {
		return nil
	}
	resp, err := c.image.Request(ctx, "PATCH", c.image.ServiceURL("images", id), &gophercloud.RequestOpts{
		JSONBody:    ops,
		MoreHeaders: map[string]string{"Content-Type": "application/openstack-images-v2.1-json-patch"},
		OkCodes:     []int{200},
	})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return imageclient.Describe(err)
}

// updateOps turns an Update into patch operations. Properties are set
// with add, which replaces an existing member (RFC 6902), so the update
// does not depend on what the image had when the plan was made.
func updateOps(u *Update) []patchOp {
	var ops []patchOp
	for _, k := range sortedKeys(u.Set) {
		ops = append(ops, patchOp{Op: "add", Path: pointer(k), Value: u.Set[k]})
	}
	for _, k := range u.Remove {
		ops = append(ops, patchOp{Op: "remove", Path: pointer(k)})
	}
	if u.MinDisk != nil {
		ops = append(ops, patchOp{Op: "replace", Path: "/min_disk", Value: *u.MinDisk})
	}
	if u.MinRAM != nil {
		ops = append(ops, patchOp{Op: "replace", Path: "/min_ram", Value: *u.MinRAM})
	}
	if u.OSHidden != nil {
		ops = append(ops, patchOp{Op: "replace", Path: "/os_hidden", Value: *u.OSHidden})
	}
	return ops
}

// Tag adds (or with remove, removes) one tag.
func (c *Client) Tag(ctx context.Context, id, tag string, remove bool) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	u := c.image.ServiceURL("images", id, "tags", url.PathEscape(tag))
	var err error
	if remove {
		_, err = c.image.Delete(ctx, u, &gophercloud.RequestOpts{OkCodes: []int{204}})
	} else {
		_, err = c.image.Put(ctx, u, nil, nil, &gophercloud.RequestOpts{OkCodes: []int{204}})
	}
	return imageclient.Describe(err)
}

// Action is deactivate or reactivate.
func (c *Client) Action(ctx context.Context, id, action string) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	_, err := c.image.Post(ctx, c.image.ServiceURL("images", id, "actions", action), nil, nil,
		&gophercloud.RequestOpts{OkCodes: []int{204}})
	return imageclient.Describe(err)
}

// Delete removes an image; one already gone counts as deleted.
func (c *Client) Delete(ctx context.Context, id string) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	_, err := c.image.Delete(ctx, c.image.ServiceURL("images", id), &gophercloud.RequestOpts{OkCodes: []int{204}})
	if gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		return nil
	}
	return imageclient.Describe(err)
}

// ImportMethods is what GET /v2/info/import offers; a server without
// the import API offers nothing.
func (c *Client) ImportMethods(ctx context.Context) ([]string, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	var body struct {
		Methods struct {
			Value []string `json:"value"`
		} `json:"import-methods"`
	}
	_, err := c.image.Get(ctx, c.image.ServiceURL("info", "import"), &body, &gophercloud.RequestOpts{OkCodes: []int{200}})
	if gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, imageclient.Describe(err)
	}
	return body.Methods.Value, nil
}

// Import starts an interoperable import. extra carries method fields
// (uri for web-download).
func (c *Client) Import(ctx context.Context, id, method string, extra map[string]any) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	m := map[string]any{"name": method}
	for k, v := range extra {
		m[k] = v
	}
	_, err := c.image.Post(ctx, c.image.ServiceURL("images", id, "import"), map[string]any{"method": m}, nil,
		&gophercloud.RequestOpts{OkCodes: []int{202}})
	return imageclient.Describe(err)
}

// Send streams data to the image's file (upload) or stage (glance-direct)
// path. size < 0 sends it chunked.
func (c *Client) Send(ctx context.Context, id, path string, body io.Reader, size int64) error {
	req, err := http.NewRequestWithContext(ctx, "PUT", c.image.ServiceURL("images", id, path), body)
	if err != nil {
		return err
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	return c.raw(req, http.StatusNoContent, nil)
}

// Download opens an image's data.
func (c *Client) Download(ctx context.Context, id string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.image.ServiceURL("images", id, "file"), nil)
	if err != nil {
		return nil, err
	}
	var body io.ReadCloser
	if err := c.raw(req, http.StatusOK, &body); err != nil {
		return nil, err
	}
	return body, nil
}

// raw sends a request with the session's token through its HTTP client:
// gophercloud would buffer or re-send a streamed body, raw never does.
func (c *Client) raw(req *http.Request, want int, body *io.ReadCloser) error {
	p := c.image.ProviderClient
	req.Header.Set("X-Auth-Token", p.Token())
	req.Header.Set("User-Agent", p.UserAgent.Join())
	resp, err := p.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode == want {
		if body != nil {
			*body = resp.Body
			return nil
		}
		resp.Body.Close()
		return nil
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return imageclient.Describe(gophercloud.ErrUnexpectedResponseCode{Method: req.Method, URL: req.URL.String(),
		Expected: []int{want}, Actual: resp.StatusCode, Body: msg, ResponseHeader: resp.Header})
}

// task is an import task as GET /v2/tasks/{id} shows it.
type task struct {
	ID        string `json:"id"`
	Status    string `json:"status"` // pending, processing, success, failure
	Message   string `json:"message"`
	CreatedAt string `json:"created_at"`
}

// LastTask is the newest task of an image (GET /v2/images/{id}/tasks),
// or the task taskID names; ok is false when the cloud shows none.
func (c *Client) LastTask(ctx context.Context, imageID, taskID string) (t task, ok bool) {
	if taskID != "" && c.get(ctx, c.image.ServiceURL("tasks", taskID), &t) == nil {
		return t, true
	}
	var body struct {
		Tasks []task `json:"tasks"`
	}
	if c.get(ctx, c.image.ServiceURL("images", imageID, "tasks"), &body) != nil || len(body.Tasks) == 0 {
		return t, false
	}
	t = body.Tasks[0]
	for _, other := range body.Tasks[1:] {
		if other.CreatedAt > t.CreatedAt {
			t = other
		}
	}
	return t, true
}
