package image

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/diskformat"
	"github.com/glint-image/glint/internal/policy"
	"github.com/glint-image/glint/internal/task"
)

// The import workflow (Glance's interoperable image import) is the
// importer's: staging (stage.go), the import request (importreq.go), the
// task that runs it (importrun.go, importdata.go, importremote.go,
// importprogress.go), recovery after a crash (importrecover.go), the tasks
// API (tasks.go) and the legacy import tasks (legacytask.go). The image
// service keeps the image rules (who may see and change an image, quotas,
// where data lives) and hands the import API over to the importer through
// importWorkflow.

// importWorkflow is what the image service asks of its import workflow:
// the API calls it passes through, and the clean-up of staged data when an
// image goes and after a crash.
type importWorkflow interface {
	ImportMethods() []string
	Stage(ctx context.Context, p caller.Principal, id string, body io.Reader, declared int64) error
	StageProgress(ctx context.Context, p caller.Principal, id string) (Progress, error)
	ResumeStage(ctx context.Context, p caller.Principal, id string, body io.Reader, rng DataRange) (Progress, error)
	Import(ctx context.Context, p caller.Principal, id string, req ImportRequest) error
	Execute(ctx context.Context, t *task.Task, rep *task.Reporter) (map[string]any, error)
	CreateTask(ctx context.Context, p caller.Principal, req TaskRequest) (*task.Task, error)
	Task(ctx context.Context, p caller.Principal, id string) (*task.Task, error)
	Tasks(ctx context.Context, p caller.Principal, q task.ListQuery) ([]*task.Task, bool, error)
	ImageTasks(ctx context.Context, p caller.Principal, id string) ([]*task.Task, error)
	removeStaged(ctx context.Context, id string)
	recoverImports(ctx context.Context, single bool, cutoff time.Time) error
}

// imageRules is what the import workflow asks of the image service: the
// access checks, image creation (legacy tasks), the quotas, and the data
// of an image in its stores.
type imageRules interface {
	visible(ctx context.Context, p caller.Principal, id string, withDeleted bool) (*Image, error)
	authorize(ctx context.Context, p caller.Principal, action string, img *Image) error
	allow(ctx context.Context, p caller.Principal, action string, t policy.Target) error
	Create(ctx context.Context, p caller.Principal, attrs map[string]any) (*Image, error)
	lockProject(ctx context.Context, project string) (func(), error)
	enforce(ctx context.Context, project string, deltas map[string]int64) error
	remainingBytes(ctx context.Context, project, quota string) (remaining, limit int64, err error)
	startData(ctx context.Context, id, owner string, declared int64, quota string, to Status) (uploadLimit, error)
	driverFor(loc string) (blob.Driver, string, error)
	discard(ctx context.Context, loc string)
	releaseData(ctx context.Context, id, loc string)
	removeData(ctx context.Context, img *Image)
	signatureCheck(ctx context.Context, p caller.Principal, img *Image) (SignatureCheck, error)
	// A PUT of data into a transfer (transfer.go, partial.go).
	openData(ctx context.Context, t *transfer, rng *DataRange) error
	streamData(ctx context.Context, t *transfer, body io.Reader, limit uploadLimit, declared int64) (int64, bool, error)
	cancelData(ctx context.Context, t *transfer)
	forgetPartial(ctx context.Context, t *transfer)
	dataProgress(ctx context.Context, img *Image, kind string, busy Status) (Progress, error)
	dropPartialOf(ctx context.Context, id string)
}

// importRecords are the image store's writes the import workflow makes
// itself: the import lock and progress, and the status moves of staging.
type importRecords interface {
	GetImage(ctx context.Context, id string) (*Image, error)
	SetStatus(ctx context.Context, id string, from, to Status, at time.Time) error
	DeleteImage(ctx context.Context, id string, at time.Time) (*Image, error)
	LockImport(ctx context.Context, id, taskID string, at time.Time) error
	UpdateImport(ctx context.Context, id, taskID string, u ImportUpdate, at time.Time) error
	ImportShared(ctx context.Context, id, taskID string, u ImportUpdate, r UploadResult, at time.Time) (string, error)
	Imports(ctx context.Context) ([]*Image, error)
}

// importer runs the import workflow. The image rules are embedded, so the
// workflow reads as the service's own steps (s.visible, s.enforce) while
// holding nothing else of the service.
type importer struct {
	imageRules
	store  importRecords
	stores Stores
	log    *slog.Logger
	opts   importerOptions
	// importTokens keeps the callers' tokens of glance-download imports
	// (task id → token), in memory only: a token never reaches the
	// database.
	importTokens sync.Map
}

// importerOptions are the service's options the workflow reads.
type importerOptions struct {
	Import  ImportOptions
	SizeCap int64
	Formats diskformat.Policy
	Now     func() time.Time
}

// newImporter wires the import workflow of an image service whose options
// have their defaults already.
func newImporter(rules imageRules, store importRecords, stores Stores, log *slog.Logger, opts Options) *importer {
	imp := opts.Import
	if imp.MaxAttempts <= 0 {
		imp.MaxAttempts = 3
	}
	if imp.Tasks != nil && imp.Staging == nil {
		imp.Staging = stores.Drivers[stores.Default]
	}
	return &importer{imageRules: rules, store: store, stores: stores, log: log,
		opts: importerOptions{Import: imp, SizeCap: opts.SizeCap, Formats: opts.Formats, Now: opts.Now}}
}

func (s *importer) now() time.Time { return s.opts.Now().UTC() }

// ImportMethods lists the enabled import methods (GET /v2/info/import and
// the OpenStack-image-import-methods header).
func (s *Service) ImportMethods() []string { return s.importer.ImportMethods() }

// Stage receives data for a later glance-direct import (PUT
// /v2/images/{id}/stage); see importer.Stage.
func (s *Service) Stage(ctx context.Context, p caller.Principal, id string, body io.Reader, declared int64) error {
	return s.importer.Stage(ctx, p, id, body, declared)
}

// StageProgress tells how much of an image's staged data was received;
// see importer.StageProgress.
func (s *Service) StageProgress(ctx context.Context, p caller.Principal, id string) (Progress, error) {
	return s.importer.StageProgress(ctx, p, id)
}

// ResumeStage continues staging an image's data; see importer.ResumeStage.
func (s *Service) ResumeStage(ctx context.Context, p caller.Principal, id string, body io.Reader, rng DataRange) (Progress, error) {
	return s.importer.ResumeStage(ctx, p, id, body, rng)
}

// Import starts an import (202 when it returns nil); see importer.Import.
func (s *Service) Import(ctx context.Context, p caller.Principal, id string, req ImportRequest) error {
	return s.importer.Import(ctx, p, id, req)
}

// Execute runs one import task to its end: the image service is the
// task.Executor of the import tasks.
func (s *Service) Execute(ctx context.Context, t *task.Task, rep *task.Reporter) (map[string]any, error) {
	return s.importer.Execute(ctx, t, rep)
}

// CreateTask records a task for the runner (POST /v2/tasks).
func (s *Service) CreateTask(ctx context.Context, p caller.Principal, req TaskRequest) (*task.Task, error) {
	return s.importer.CreateTask(ctx, p, req)
}

// Task returns one task.
func (s *Service) Task(ctx context.Context, p caller.Principal, id string) (*task.Task, error) {
	return s.importer.Task(ctx, p, id)
}

// Tasks returns a page of tasks; more is set when the page is full.
func (s *Service) Tasks(ctx context.Context, p caller.Principal, q task.ListQuery) (tasks []*task.Task, more bool, err error) {
	return s.importer.Tasks(ctx, p, q)
}

// ImageTasks returns the tasks of an image the caller may see.
func (s *Service) ImageTasks(ctx context.Context, p caller.Principal, id string) ([]*task.Task, error) {
	return s.importer.ImageTasks(ctx, p, id)
}
