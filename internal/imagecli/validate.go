package imagecli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/glint-image/glint/internal/imageclient"
	"github.com/glint-image/glint/internal/metadef"
)

// `glint image set --validate` checks the properties it is about to set
// against the cloud's metadata definitions for images before changing
// anything. The catalog never restricts image properties (not in Glance,
// not in glint): the check is the client's choice.

// catalogPage bounds one namespace listing while reading the catalog.
const catalogPage = 100

// imageCatalog reads the image property definitions the cloud shows the
// caller: every namespace associated with OS::Glance::Image, with the
// property names as they are set on images (the association's prefix
// applied by the server's ?resource_type=).
func imageCatalog(ctx context.Context, c *gophercloud.ServiceClient) (*metadef.Catalog, error) {
	cat := &metadef.Catalog{}
	marker := ""
	for {
		q := url.Values{"resource_types": {metadef.ResourceTypeImage}, "limit": {strconv.Itoa(catalogPage)},
			"sort_key": {"namespace"}, "sort_dir": {"asc"}}
		if marker != "" {
			q.Set("marker", marker)
		}
		var page struct {
			Namespaces []struct{ Namespace string }
		}
		if _, err := c.Get(ctx, c.ServiceURL("metadefs", "namespaces")+"?"+q.Encode(), &page, nil); err != nil {
			return nil, fmt.Errorf("reading the metadata definitions: %w", imageclient.Describe(err))
		}
		for _, ns := range page.Namespaces {
			var d struct {
				Properties map[string]json.RawMessage
				Objects    []struct {
					Properties map[string]json.RawMessage
				}
			}
			u := c.ServiceURL("metadefs", "namespaces", url.PathEscape(ns.Namespace)) + "?resource_type=" + url.QueryEscape(metadef.ResourceTypeImage)
			if _, err := c.Get(ctx, u, &d, nil); err != nil {
				return nil, fmt.Errorf("reading namespace %s: %w", ns.Namespace, imageclient.Describe(err))
			}
			props := []map[string]json.RawMessage{d.Properties}
			for _, ob := range d.Objects {
				props = append(props, ob.Properties)
			}
			for _, set := range props {
				for name, schema := range set {
					if err := cat.Add(ns.Namespace, name, schema); err != nil {
						return nil, err
					}
				}
			}
		}
		if len(page.Namespaces) < catalogPage {
			return cat, nil
		}
		marker = page.Namespaces[len(page.Namespaces)-1].Namespace
	}
}

// validateProperties refuses values that break the cloud's definitions,
// naming each, before anything is changed.
func (a *app) validateProperties(ctx context.Context, s *session, props map[string]string) error {
	if len(props) == 0 {
		return nil
	}
	cat, err := imageCatalog(ctx, s.image)
	if err != nil {
		return err
	}
	violations := cat.Check(props)
	for _, v := range violations {
		fmt.Fprintf(a.errw, "%s=%s: %s (metadata definitions namespace %s)\n", v.Property, v.Value, v.Problem, v.Namespace)
	}
	if n := len(violations); n > 0 {
		return fmt.Errorf("%d of %d properties do not match the metadata definitions; nothing was changed", n, len(props))
	}
	return nil
}
