package imageactions

import "github.com/gophercloud/gophercloud/v2"

// ActionResult is the answer of Deactivate or Reactivate; call its
// ExtractErr method.
type ActionResult struct {
	gophercloud.ErrResult
}
