package image

import (
	"context"
	"io"
	"time"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/diskformat"
	"github.com/glint-image/glint/internal/task"
)

// Import methods, as Glance names them.
const (
	MethodGlanceDirect   = "glance-direct"
	MethodWebDownload    = "web-download"
	MethodCopyImage      = "copy-image"
	MethodGlanceDownload = "glance-download"
)

// DefaultImportMethods are Glance's enabled_import_methods default;
// glance-download is opt-in there too.
var DefaultImportMethods = []string{MethodGlanceDirect, MethodWebDownload, MethodCopyImage}

// ImportOptions turn on the interoperable import API. With no Tasks store
// there is no import: /v2/info/import lists no method.
type ImportOptions struct {
	// Methods are the enabled import methods, in the order clients see.
	Methods []string
	// Tasks keeps the import tasks; Wake tells the task runner one was
	// created. Node and Lease are that runner's: a task only it can run
	// (glance-download, whose token it holds) is reserved for it.
	Tasks task.Store
	Wake  func()
	Node  string
	Lease time.Duration
	// Staging holds staged data under StagingPrefix: a store every node
	// reaches (the default store unless configured), so any node can run
	// any import.
	Staging       blob.Driver
	StagingPrefix string
	// WorkDir is a private local directory for the files the import
	// plugins work on.
	WorkDir string
	// Plugins run, in order, on the data of every import except
	// copy-image (Glance's image_import_plugins).
	Plugins []Plugin
	// Fetcher downloads web-download URIs and glance-download images.
	Fetcher Fetcher
	// Regions are the Image API endpoints glance-download may fetch
	// from: region name → interface (public, internal, admin) → URL.
	Regions map[string]map[string]string
	// DownloadProperties are the property prefixes glance-download copies
	// from the source image (Glance's glance_download_properties).
	DownloadProperties []string
	// StageHost is recorded as os_glance_stage_host on staged images.
	StageHost string
	// MaxAttempts bounds how often an interrupted import is resumed before
	// it is failed (default 3).
	MaxAttempts int
}

// DefaultDownloadProperties are Glance's glance_download_properties
// extra_properties default.
var DefaultDownloadProperties = []string{"hw_", "trait:", "os_distro", "os_secure_boot", "os_type"}

// Fetcher fetches import sources under the operator's rules; the server
// supplies one over internal/webfetch. Its errors are worded for the
// image's owner.
type Fetcher interface {
	// Check refuses a URI the rules do not allow, before any connection.
	Check(uri string) error
	// Open fetches uri; size is -1 when unknown.
	Open(ctx context.Context, uri string, how Fetch) (body io.ReadCloser, size int64, err error)
}

// Fetch says how to ask for an import source. The zero value asks a web
// server (web-download).
type Fetch struct {
	// API marks a request to another region's Image API (glance-download),
	// which is asked for JSON.
	API bool
	// Token is the caller's token for that API; empty sends none. It
	// never follows a redirect to another host.
	Token string
}

// Plugin is one step of the import chain, applied to the data as a local
// file before it goes into the stores.
type Plugin interface {
	Name() string
	Apply(ctx context.Context, w *Work) error
}

// Work is the image as the import plugins see and change it.
type Work struct {
	ImageID string
	// Path is the local file holding the data; a plugin that rewrites the
	// data points it at its output (in Dir) and removes the old file.
	Path string
	Dir  string
	// Size of the file at Path; MaxSize the most it may grow to while a
	// plugin writes it: the size cap or, when smaller, what the owner's
	// image_size_total has room for. MaxSizeWhy names that bound for
	// error messages.
	Size, MaxSize int64
	MaxSizeWhy    string
	// DiskFormat and ContainerFormat as declared; a conversion changes
	// them.
	DiskFormat, ContainerFormat string
	// VirtualSize is set by a plugin that knows it (conversion), 0 if not.
	VirtualSize int64
	// Inspected is set by a plugin that inspected the data at Path in its
	// final form and found it safe in DiskFormat; the import then does not
	// inspect it again.
	Inspected bool
	// Roles of the caller who asked for the import.
	Roles []string
	// Properties are the image's extra properties; plugins add theirs to
	// SetProperties.
	Properties    map[string]string
	SetProperties map[string]string
	// Formats is the inspection policy plugins apply.
	Formats diskformat.Policy
}

// imports returns whether import is configured at all.
func (s *importer) imports() bool { return s.opts.Import.Tasks != nil }

// ImportMethods lists the enabled import methods (GET /v2/info/import and
// the OpenStack-image-import-methods header).
func (s *importer) ImportMethods() []string {
	if !s.imports() {
		return nil
	}
	return s.opts.Import.Methods
}

func (s *importer) methodEnabled(m string) bool {
	for _, e := range s.ImportMethods() {
		if e == m {
			return true
		}
	}
	return false
}
