package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imageimport"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/members"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/glint-image/glint/internal/imageclient"
)

// imageView is one image as the API showed it (imageclient decodes it),
// with what the pages ask of it.
type imageView struct {
	imageclient.Image
	propertyOrder []string
}

func newImageView(img *imageclient.Image) *imageView {
	return &imageView{Image: *img, propertyOrder: sortedKeys(img.Properties)}
}

func (v *imageView) UnmarshalJSON(b []byte) error {
	if err := v.Image.UnmarshalJSON(b); err != nil {
		return err
	}
	v.propertyOrder = sortedKeys(v.Properties)
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// property is one extra property, for templates.
type property struct{ Key, Value string }

// PropertyList returns the extra properties sorted by key.
func (v *imageView) PropertyList() []property {
	out := make([]property, 0, len(v.propertyOrder))
	for _, k := range v.propertyOrder {
		out = append(out, property{k, v.Properties[k]})
	}
	return out
}

// CustomProperties are the properties users set; ServiceProperties the
// os_glance_* ones the service keeps (import state).
func (v *imageView) CustomProperties() []property {
	var out []property
	for _, p := range v.PropertyList() {
		if !reservedProperty(p.Key) {
			out = append(out, p)
		}
	}
	return out
}

func (v *imageView) ServiceProperties() []property {
	var out []property
	for _, p := range v.PropertyList() {
		if reservedProperty(p.Key) {
			out = append(out, p)
		}
	}
	return out
}

// Type is Horizon's Type column: a snapshot if image_type says so.
func (v *imageView) Type() string {
	if v.Properties["image_type"] == "snapshot" {
		return "Snapshot"
	}
	return "Image"
}

// Description is the description property Horizon shows and edits.
func (v *imageView) Description() string { return v.Properties["description"] }

// Changing reports a status that is about to change by itself.
func (v *imageView) Changing() bool {
	switch v.Status {
	case "saving", "importing", "uploading":
		return true
	}
	return false
}

// Busy reports whether a table row should keep asking for its image:
// while it changes, and while it is a fresh queued image whose data is
// probably on its way (an old queued image waits for nobody).
func (v *imageView) Busy() bool {
	return v.Changing() || (v.Status == "queued" && time.Since(v.CreatedAt) < 10*time.Minute)
}

// ImportProgress is a running import's current step as bytes done and
// in all (total -1 when unknown), from the image's
// os_glance_import_bytes_* properties; ok is false when there is none.
func (v *imageView) ImportProgress() (done, total int64, ok bool) {
	d, err := strconv.ParseInt(v.Properties["os_glance_import_bytes_done"], 10, 64)
	if err != nil || v.Status != "importing" {
		return 0, 0, false
	}
	t, err := strconv.ParseInt(v.Properties["os_glance_import_bytes_total"], 10, 64)
	if err != nil {
		t = -1
	}
	return d, t, true
}

// Importing is ImportProgress for templates.
func (v *imageView) Importing() *importBar {
	d, t, ok := v.ImportProgress()
	if !ok {
		return nil
	}
	return &importBar{Done: d, Total: t}
}

type importBar struct{ Done, Total int64 }

// Deletable reports whether the image may be selected for deletion.
func (v *imageView) Deletable() bool { return !v.Protected }

// imagePage is one page of a listing.
type imagePage struct {
	Images []*imageView
	// Next is the marker for the following page; empty on the last page.
	Next string
	// Total is the listing's size over all pages, when the API counted
	// it; Capped: more than Total.
	Total  *int
	Capped bool
}

// listImages fetches one page of GET /v2/images. The answer is decoded
// once (gophercloud's pager and results decode it three times, which
// costs more than the call on a large page).
func listImages(ctx context.Context, c *gophercloud.ServiceClient, q url.Values) (*imagePage, error) {
	query := ""
	if len(q) > 0 {
		query = "?" + q.Encode()
	}
	p, err := imageclient.List(ctx, c, query)
	if err != nil {
		return nil, err
	}
	out := &imagePage{Images: make([]*imageView, len(p.Images)), Next: p.Marker(), Total: p.Total, Capped: p.TotalCapped}
	for i, img := range p.Images {
		out.Images[i] = newImageView(img)
	}
	return out, nil
}

func getImage(ctx context.Context, c *gophercloud.ServiceClient, id string) (*imageView, error) {
	img, err := imageclient.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	return newImageView(img), nil
}

// patchOp is one JSON-patch operation on an image.
type patchOp struct {
	Op, Path string
	Value    any
}

func (p patchOp) ToImagePatchMap() map[string]any {
	m := map[string]any{"op": p.Op, "path": p.Path}
	if p.Op != "remove" {
		m["value"] = p.Value
	}
	return m
}

func updateImage(ctx context.Context, c *gophercloud.ServiceClient, id string, ops []patchOp) (*imageView, error) {
	patches := make(images.UpdateOpts, len(ops))
	for i, op := range ops {
		patches[i] = op
	}
	var v imageView
	if err := images.Update(ctx, c, id, patches).ExtractInto(&v); err != nil {
		return nil, err
	}
	return &v, nil
}

func createImage(ctx context.Context, c *gophercloud.ServiceClient, opts images.CreateOpts) (*imageView, error) {
	var v imageView
	if err := images.Create(ctx, c, opts).ExtractInto(&v); err != nil {
		return nil, err
	}
	return &v, nil
}

func deleteImage(ctx context.Context, c *gophercloud.ServiceClient, id string) error {
	return images.Delete(ctx, c, id).ExtractErr()
}

// imageAction posts deactivate or reactivate.
func imageAction(ctx context.Context, c *gophercloud.ServiceClient, id, action string) error {
	_, err := c.Post(ctx, c.ServiceURL("images", id, "actions", action), nil, nil, &gophercloud.RequestOpts{OkCodes: []int{204}})
	return err
}

func webDownload(ctx context.Context, c *gophercloud.ServiceClient, id, uri string) error {
	return imageimport.Create(ctx, c, id, imageimport.CreateOpts{Name: imageimport.WebDownloadMethod, URI: uri}).ExtractErr()
}

type memberView struct {
	MemberID  string    `json:"member_id"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func listMembers(ctx context.Context, c *gophercloud.ServiceClient, id string) ([]memberView, error) {
	var out []memberView
	err := members.List(c, id).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
		var body struct {
			Members []memberView `json:"members"`
		}
		if err := p.(members.MemberPage).ExtractInto(&body); err != nil {
			return false, err
		}
		out = append(out, body.Members...)
		return false, nil
	})
	slices.SortFunc(out, func(a, b memberView) int { return strings.Compare(a.MemberID, b.MemberID) })
	return out, err
}

// Member ids are whatever the owner typed, so they are escaped in paths;
// image ids are checked to be id-like by the routes.
func addMember(ctx context.Context, c *gophercloud.ServiceClient, id, member string) error {
	_, err := members.Create(ctx, c, id, member).Extract()
	return err
}

func removeMember(ctx context.Context, c *gophercloud.ServiceClient, id, member string) error {
	return members.Delete(ctx, c, id, url.PathEscape(member)).ExtractErr()
}

func setMemberStatus(ctx context.Context, c *gophercloud.ServiceClient, id, member, status string) error {
	_, err := members.Update(ctx, c, id, url.PathEscape(member), members.UpdateOpts{Status: status}).Extract()
	return err
}

// getJSON fetches an API path that gophercloud has no resource for.
func getJSON(ctx context.Context, c *gophercloud.ServiceClient, path string, out any) error {
	_, err := c.Get(ctx, internalBase+strings.TrimPrefix(path, "/"), out, &gophercloud.RequestOpts{OkCodes: []int{200}})
	return err
}

// quota is one of a project's quotas with its usage.
type quota struct {
	Name         string
	Usage, Limit int64
}

// quotaNames are glint's quotas in the order the pages show them.
var quotaNames = []string{"image_count_total", "image_count_uploading", "image_size_total", "image_stage_total"}

func decodeQuotas(m map[string]struct {
	Usage int64 `json:"usage"`
	Limit int64 `json:"limit"`
}) []quota {
	out := []quota{}
	for _, name := range quotaNames {
		if q, ok := m[name]; ok {
			out = append(out, quota{Name: name, Usage: q.Usage, Limit: q.Limit})
		}
	}
	return out
}

type quotaMap = map[string]struct {
	Usage int64 `json:"usage"`
	Limit int64 `json:"limit"`
}

// usage is GET /v2/info/usage: the caller's project.
func usage(ctx context.Context, c *gophercloud.ServiceClient) ([]quota, error) {
	var body struct {
		Usage quotaMap `json:"usage"`
	}
	if err := getJSON(ctx, c, "v2/info/usage", &body); err != nil {
		return nil, err
	}
	return decodeQuotas(body.Usage), nil
}

func projectQuotas(ctx context.Context, c *gophercloud.ServiceClient, project string) ([]quota, error) {
	var body struct {
		Quotas quotaMap `json:"quotas"`
	}
	if err := getJSON(ctx, c, "v2/quotas/"+url.PathEscape(project), &body); err != nil {
		return nil, err
	}
	return decodeQuotas(body.Quotas), nil
}

func setProjectQuotas(ctx context.Context, c *gophercloud.ServiceClient, project string, limits map[string]int64) error {
	_, err := c.Put(ctx, internalBase+"v2/quotas/"+url.PathEscape(project), limits, nil, &gophercloud.RequestOpts{OkCodes: []int{200}})
	return err
}

func resetProjectQuotas(ctx context.Context, c *gophercloud.ServiceClient, project string) error {
	_, err := c.Delete(ctx, internalBase+"v2/quotas/"+url.PathEscape(project), &gophercloud.RequestOpts{OkCodes: []int{204}})
	return err
}

// features is what the server offers beyond the core API, found by
// asking it (metadefs and import are optional in Glance too).
type features struct {
	ImportMethods []string
	Stores        []storeInfo
	Metadefs      bool
}

type storeInfo struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	Default     bool   `json:"-"`
}

// WebDownload reports whether images can be created from a URL.
func (f features) WebDownload() bool { return slices.Contains(f.ImportMethods, "web-download") }

// detectFeatures asks the API what it offers. A feature whose endpoint
// answers anything but 200 is off; the call never fails the page.
func detectFeatures(ctx context.Context, c *gophercloud.ServiceClient) features {
	var f features
	var imp struct {
		Methods struct {
			Value []string `json:"value"`
		} `json:"import-methods"`
	}
	if getJSON(ctx, c, "v2/info/import", &imp) == nil {
		f.ImportMethods = imp.Methods.Value
	}
	var st struct {
		Stores []struct {
			ID          string `json:"id"`
			Description string `json:"description"`
			Default     any    `json:"default"`
			ReadOnly    any    `json:"read-only"`
		} `json:"stores"`
	}
	if getJSON(ctx, c, "v2/info/stores", &st) == nil {
		for _, s := range st.Stores {
			if s.ReadOnly == true || s.ReadOnly == "true" {
				continue // an http store takes no uploads
			}
			def := s.Default == true || s.Default == "true"
			f.Stores = append(f.Stores, storeInfo{ID: s.ID, Description: s.Description, Default: def})
		}
	}
	var ns struct {
		Namespaces []json.RawMessage `json:"namespaces"`
	}
	f.Metadefs = getJSON(ctx, c, "v2/metadefs/namespaces?limit=1", &ns) == nil
	return f
}

// bytesText renders a size with binary units, as the CLI does.
func bytesText(n *int64) string {
	if n == nil {
		return "—"
	}
	v := float64(*n)
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatInt(*n, 10) + " B"
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// isStatus reports whether err is an API answer with the given status.
func isStatus(err error, status int) bool { return err != nil && statusOf(err) == status }
