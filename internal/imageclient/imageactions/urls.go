package imageactions

import "github.com/gophercloud/gophercloud/v2"

func actionURL(c *gophercloud.ServiceClient, id, action string) string {
	return c.ServiceURL("images", id, "actions", action)
}
