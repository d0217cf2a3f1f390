/*
Package imageactions deactivates and reactivates images (Glance's
POST /v2/images/{id}/actions/deactivate and .../reactivate), which
gophercloud does not cover. It follows gophercloud's file layout so it
could move upstream as openstack/image/v2/imageactions.

Example:

	if err := imageactions.Deactivate(ctx, imageClient, id).ExtractErr(); err != nil {
		panic(err)
	}
*/
package imageactions
