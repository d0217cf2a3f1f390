/*
Package stores lists the image stores of a cloud with multi-store
enabled (Glance's GET /v2/info/stores and /v2/info/stores/detail), which
gophercloud does not cover. It follows gophercloud's own file layout so it
could move upstream as openstack/image/v2/stores.

Example to list the stores:

	all, err := stores.List(ctx, imageClient).Extract()
	if err != nil {
		panic(err)
	}
	for _, s := range all {
		fmt.Println(s.ID, s.Default)
	}

A cloud without multi-store answers 404.
*/
package stores
