package stores

import (
	"context"

	"github.com/gophercloud/gophercloud/v2"
)

// List returns the stores new image data can be written to.
func List(ctx context.Context, c *gophercloud.ServiceClient) (r ListResult) {
	resp, err := c.Get(ctx, listURL(c), &r.Body, &gophercloud.RequestOpts{OkCodes: []int{200}})
	_, r.Header, r.Err = gophercloud.ParseResponse(resp, err)
	return
}

// ListDetail also returns each store's type and properties; Glance allows
// it to admins only.
func ListDetail(ctx context.Context, c *gophercloud.ServiceClient) (r ListResult) {
	resp, err := c.Get(ctx, listDetailURL(c), &r.Body, &gophercloud.RequestOpts{OkCodes: []int{200}})
	_, r.Header, r.Err = gophercloud.ParseResponse(resp, err)
	return
}
