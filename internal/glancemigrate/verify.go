package glancemigrate

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"

	"github.com/glint-image/glint/internal/checksum"
	"github.com/glint-image/glint/internal/imageclient"
)

// Caller is who the verification asks both APIs as: a token valid for
// both (the same Keystone), or trusted headers (tests, a proxy setup).
type Caller struct {
	Token   string
	Project string
	User    string
	Roles   []string
}

// client is an Image API client (internal/imageclient's gophercloud
// service client) acting as c.
func (c Caller) client(hc *http.Client, endpoint string) *gophercloud.ServiceClient {
	pc := &gophercloud.ProviderClient{HTTPClient: *hc}
	pc.UserAgent.Prepend("glint-verify-glance")
	if c.Token != "" {
		pc.SetToken(c.Token)
	} else {
		user := c.User
		if user == "" {
			user = "glint-verify"
		}
		rt := hc.Transport
		if rt == nil {
			rt = http.DefaultTransport
		}
		pc.HTTPClient.Transport = trustedHeaders{rt: rt, h: map[string]string{"X-Identity-Status": "Confirmed",
			"X-Project-Id": c.Project, "X-User-Id": user, "X-Roles": strings.Join(c.Roles, ",")}}
	}
	base := strings.TrimSuffix(strings.TrimRight(endpoint, "/"), "/v2") + "/"
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: base, ResourceBase: base + "v2/", Type: "image"}
}

// trustedHeaders adds the caller's identity headers to every request.
type trustedHeaders struct {
	rt http.RoundTripper
	h  map[string]string
}

func (t trustedHeaders) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for k, v := range t.h {
		req.Header.Set(k, v)
	}
	return t.rt.RoundTrip(req)
}

// Verifier compares Glance's and glint's Image API answers.
type Verifier struct {
	GlanceURL, GlintURL string
	Caller              Caller
	// Data: read every active image's data back from glint and check
	// its size, md5 and os_hash_value against Glance's record.
	Data bool
	// CopiedStores are the Glance stores whose data migrate-glance
	// copied into glint's own stores: their locations' URLs name glint's
	// copies, so only their metadata is compared (the data check covers
	// the bytes). Every other location must read the same in both.
	CopiedStores []string
	Client       *http.Client

	glance, glint *gophercloud.ServiceClient
}

// Difference is one field that reads differently.
type Difference struct {
	ImageID string `json:"image_id"`
	Field   string `json:"field"`
	Glance  string `json:"glance"`
	Glint   string `json:"glint"`
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	Images      int `json:"images"`
	DataChecked int `json:"data_checked"`
	// LocationsCompared counts the locations compared (both APIs show
	// them with show_multiple_locations).
	LocationsCompared int          `json:"locations_compared"`
	Differences       []Difference `json:"differences"`
}

// ignoredFields are not compared field by field: locations are compared
// one by one (compareLocations), and direct_url is the first location's
// URL, compared with it.
var ignoredFields = map[string]bool{"locations": true, "direct_url": true}

// Verify walks every image the caller sees in Glance (hidden ones too)
// and compares it with glint's answer for the same caller.
func (v *Verifier) Verify(ctx context.Context) (*VerifyReport, error) {
	if v.Client == nil {
		v.Client = &http.Client{}
	}
	v.glance, v.glint = v.Caller.client(v.Client, v.GlanceURL), v.Caller.client(v.Client, v.GlintURL)
	rep := &VerifyReport{}
	for _, hidden := range []string{"false", "true"} {
		err := imageclient.Each(ctx, v.glance, "?limit=200&visibility=all&os_hidden="+hidden, func(p *imageclient.Page) (bool, error) {
			for _, img := range p.Images {
				v.one(ctx, img.Raw, rep)
			}
			return true, nil
		})
		if err != nil {
			return nil, fmt.Errorf("listing Glance's images: %w", err)
		}
	}
	sort.Slice(rep.Differences, func(i, j int) bool {
		a, b := rep.Differences[i], rep.Differences[j]
		return a.ImageID < b.ImageID || a.ImageID == b.ImageID && a.Field < b.Field
	})
	return rep, nil
}

func (v *Verifier) one(ctx context.Context, g map[string]any, rep *VerifyReport) {
	id, _ := g["id"].(string)
	rep.Images++
	diff := func(field, gv, lv string) {
		rep.Differences = append(rep.Differences, Difference{ImageID: id, Field: field, Glance: gv, Glint: lv})
	}
	l, err := imageclient.Get(ctx, v.glint, id)
	if err != nil {
		diff("(image)", "present", err.Error())
		return
	}
	for _, d := range CompareImages(g, l.Raw) {
		diff(d[0], d[1], d[2])
	}
	// Glance hides a deactivated image's locations from non-admins;
	// glint's API shows them: not the migration's doing.
	if g["locations"] != nil || g["status"] != "deactivated" {
		n, ds := CompareLocations(g["locations"], l.Raw["locations"], v.CopiedStores)
		rep.LocationsCompared += n
		for _, d := range ds {
			diff(d[0], d[1], d[2])
		}
	}
	if g["visibility"] == "shared" {
		gm, gerr := members(ctx, v.glance, id)
		lm, lerr := members(ctx, v.glint, id)
		if gs, ls := canonical(gm, gerr), canonical(lm, lerr); gs != ls {
			diff("members", gs, ls)
		}
	}
	if v.Data && g["status"] == "active" {
		rep.DataChecked++
		if err := v.checkData(ctx, id, g); err != nil {
			diff("data", "checksums of the record", err.Error())
		}
	}
}

// members reads an image's members list as sent.
func members(ctx context.Context, c *gophercloud.ServiceClient, id string) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, imageclient.CallTimeout)
	defer cancel()
	var out any
	_, err := c.Get(ctx, c.ServiceURL("images", id, "members"), &out, &gophercloud.RequestOpts{OkCodes: []int{200}})
	return out, imageclient.Describe(err)
}

func canonical(v any, err error) string {
	if err != nil {
		return err.Error()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// CompareImages lists the fields in which two answers for one image
// differ, as (field, Glance's value, glint's value). Store lists and tags
// compare as sets; ignoredFields are skipped.
func CompareImages(g, l map[string]any) [][3]string {
	var out [][3]string
	keys := map[string]bool{}
	for k := range g {
		keys[k] = true
	}
	for k := range l {
		keys[k] = true
	}
	for k := range keys {
		if ignoredFields[k] {
			continue
		}
		gv, gok := g[k]
		lv, lok := l[k]
		gs, ls := render(k, gv, gok), render(k, lv, lok)
		if gs != ls {
			out = append(out, [3]string{k, gs, ls})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

func render(key string, v any, present bool) string {
	if !present {
		return "(absent)"
	}
	switch key {
	case "stores":
		s, _ := v.(string)
		parts := strings.Split(s, ",")
		sort.Strings(parts)
		return strings.Join(parts, ",")
	case "tags":
		l, _ := v.([]any)
		var s []string
		for _, x := range l {
			s = append(s, fmt.Sprint(x))
		}
		sort.Strings(s)
		return strings.Join(s, ",")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// checkData reads the image from glint and checks it against Glance's
// record.
func (v *Verifier) checkData(ctx context.Context, id string, g map[string]any) error {
	body, err := imagedata.Download(ctx, v.glint, id).Extract()
	if err != nil {
		return imageclient.Describe(err)
	}
	defer body.Close()
	md := md5.New()
	var h hash.Hash
	algo, _ := g["os_hash_algo"].(string)
	if algo != "" {
		if h = checksum.New(algo); h == nil {
			return fmt.Errorf("os_hash_algo %q unknown", algo)
		}
	}
	w := io.Writer(md)
	if h != nil {
		w = io.MultiWriter(md, h)
	}
	n, err := io.Copy(w, body)
	if err != nil {
		return fmt.Errorf("reading from glint: %w", err)
	}
	if size, ok := g["size"].(float64); ok && int64(size) != n {
		return fmt.Errorf("%d bytes, record says %d", n, int64(size))
	}
	if sum, _ := g["checksum"].(string); sum != "" && hex.EncodeToString(md.Sum(nil)) != sum {
		return errors.New("md5 does not match checksum")
	}
	if val, _ := g["os_hash_value"].(string); h != nil && hex.EncodeToString(h.Sum(nil)) != val {
		return errors.New("os_hash_value does not match")
	}
	return nil
}

// WriteTable writes the verification report for a terminal.
func (r *VerifyReport) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%d images compared, %d locations compared, %d read back with checksums, %d differences\n",
		r.Images, r.LocationsCompared, r.DataChecked, len(r.Differences))
	for _, d := range r.Differences {
		fmt.Fprintf(w, "%s  %s\n  glance: %s\n  glint:  %s\n", d.ImageID, d.Field, d.Glance, d.Glint)
	}
	return nil
}
