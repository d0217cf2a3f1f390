package imageactions

import (
	"context"

	"github.com/gophercloud/gophercloud/v2"
)

// Deactivate makes an active image's data unavailable to non-admins.
func Deactivate(ctx context.Context, c *gophercloud.ServiceClient, id string) (r ActionResult) {
	return post(ctx, c, id, "deactivate")
}

// Reactivate makes a deactivated image's data available again.
func Reactivate(ctx context.Context, c *gophercloud.ServiceClient, id string) (r ActionResult) {
	return post(ctx, c, id, "reactivate")
}

func post(ctx context.Context, c *gophercloud.ServiceClient, id, action string) (r ActionResult) {
	resp, err := c.Post(ctx, actionURL(c, id, action), nil, nil, &gophercloud.RequestOpts{OkCodes: []int{204}})
	_, r.Header, r.Err = gophercloud.ParseResponse(resp, err)
	return
}
