package s3

import "github.com/glint-image/glint/internal/blob/s3/s3config"

// Config says where and how the driver stores blobs; s3config owns it
// and checks it (Validate), so the configuration can hold one without
// this driver.
type Config = s3config.Config

// Bounds of Config, as s3config defines them.
const (
	DefaultPartSize    = s3config.DefaultPartSize
	MinPartSize        = s3config.MinPartSize
	MaxPartSize        = s3config.MaxPartSize
	DefaultConcurrency = s3config.DefaultConcurrency
	MaxConcurrency     = s3config.MaxConcurrency
)

// S3 allows at most 10 000 parts. With a fixed part size that would cap a
// blob at 156 GiB (16 MiB parts), below the 1 TiB images Glance and glint
// accept; so parts grow as a blob does (see partCap), and 16 MiB parts
// reach 1.03 TiB.
const (
	maxParts = 10_000
	// partsPerStep is how many parts of each size are sent before the size
	// grows by another PartSize.
	partsPerStep = 800
)
