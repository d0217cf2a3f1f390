package stores

import "github.com/gophercloud/gophercloud/v2"

func listURL(c *gophercloud.ServiceClient) string {
	return c.ServiceURL("info", "stores")
}

func listDetailURL(c *gophercloud.ServiceClient) string {
	return c.ServiceURL("info", "stores", "detail")
}
