package metadef

import (
	"context"
	"time"
)

// Store keeps the catalog. It is the seam between the Service and a
// database; metadeftest is the conformance suite every implementation
// runs.
//
// Rules every implementation follows:
//   - things are addressed by names; a missing namespace, object,
//     property, tag, resource type or association is ErrNotFound;
//   - a write that would repeat a unique name is a *Duplicate and changes
//     nothing; a write of several records is one transaction;
//   - deleting anything from a protected namespace, or the namespace
//     itself, is ErrProtected and changes nothing (checked in the same
//     transaction as the delete);
//   - lists come in insertion order unless a query says otherwise, and
//     times are kept to the microsecond in UTC.
type Store interface {
	// GetNamespace returns one namespace record, whoever owns it: the
	// Service decides who may see it.
	GetNamespace(ctx context.Context, name string) (*Namespace, error)
	// ListNamespaces returns a page of namespaces the query's caller may
	// see, each with its associations (Definition.Associations; the other
	// contents are left nil).
	ListNamespaces(ctx context.Context, q NamespaceQuery) ([]*Definition, error)
	// GetDefinition returns a namespace with all its contents, read in one
	// snapshot.
	GetDefinition(ctx context.Context, name string) (*Definition, error)
	// CreateDefinition creates a namespace with the contents d carries, in
	// one transaction. Associations create their resource types (not
	// protected) when missing.
	CreateDefinition(ctx context.Context, d *Definition) error
	// UpdateNamespace replaces the namespace record's fields (a new Name
	// renames it; a taken name is a *Duplicate). CreatedAt is kept.
	UpdateNamespace(ctx context.Context, name string, ns *Namespace) error
	// DeleteNamespace removes a namespace with all its contents and
	// associations in one transaction.
	DeleteNamespace(ctx context.Context, name string) error
	// DeleteContent removes all objects, properties or tags of a namespace.
	DeleteContent(ctx context.Context, name string, part Part) error

	ListObjects(ctx context.Context, ns string) ([]Object, error)
	GetObject(ctx context.Context, ns, name string) (*Object, error)
	CreateObject(ctx context.Context, ns string, o *Object) error
	// UpdateObject replaces object name's fields; CreatedAt is kept.
	UpdateObject(ctx context.Context, ns, name string, o *Object) error
	DeleteObject(ctx context.Context, ns, name string) error

	ListProperties(ctx context.Context, ns string) ([]Property, error)
	GetProperty(ctx context.Context, ns, name string) (*Property, error)
	CreateProperty(ctx context.Context, ns string, p *Property) error
	UpdateProperty(ctx context.Context, ns, name string, p *Property) error
	DeleteProperty(ctx context.Context, ns, name string) error

	// ListTags returns a page of a namespace's tags in q's order.
	ListTags(ctx context.Context, ns string, q TagQuery) ([]Tag, error)
	GetTag(ctx context.Context, ns, name string) (*Tag, error)
	CreateTag(ctx context.Context, ns string, t *Tag) error
	// CreateTags adds tags in one transaction; unless add is set, the
	// namespace's existing tags are removed first.
	CreateTags(ctx context.Context, ns string, tags []Tag, add bool) error
	UpdateTag(ctx context.Context, ns, name string, t *Tag) error
	DeleteTag(ctx context.Context, ns, name string) error

	// ListResourceTypes returns every resource type, associated or not.
	ListResourceTypes(ctx context.Context) ([]ResourceType, error)
	// ListAssociations returns a namespace's associations in the order
	// they were made.
	ListAssociations(ctx context.Context, ns string) ([]Association, error)
	// CreateAssociation associates a resource type, creating it (not
	// protected) when missing.
	CreateAssociation(ctx context.Context, ns string, a *Association) error
	DeleteAssociation(ctx context.Context, ns, resourceType string) error

	// ImportDefinition writes a definition from a file in one transaction,
	// as mode says; see ImportMode. Resource types it creates are
	// protected.
	ImportDefinition(ctx context.Context, d *Definition, mode ImportMode, at time.Time) (ImportResult, error)
	// SeedOnce imports defs (ImportCreate) unless the catalog already
	// recorded key, and records it, in one transaction: of several nodes
	// starting together exactly one seeds. It reports whether it seeded.
	SeedOnce(ctx context.Context, key string, defs []*Definition, at time.Time) (bool, error)
}

// NamespaceQuery is one page of a namespace listing.
type NamespaceQuery struct {
	// Caller decides visibility: admins see everything, others public
	// namespaces and their own project's.
	Caller Scope
	// Visibility filters on one visibility when set.
	Visibility string
	// ResourceTypes, when not nil, keeps namespaces associated with any of
	// these types.
	ResourceTypes []string
	// Sort is one of NamespaceSortKeys; created_at and the row order break
	// ties, in the same direction.
	Sort string
	Desc bool
	// Marker is the name of the namespace the page starts after; the
	// Service has checked that it exists and is visible.
	Marker string
	// Limit bounds the page; zero or less means no bound (admin export).
	Limit int
}

// Scope is who is asking, as far as visibility goes.
type Scope struct {
	Project string
	Admin   bool
}

// TagQuery is one page of a namespace's tags.
type TagQuery struct {
	Sort   string // one of TagSortKeys
	Desc   bool
	Marker string // name of the tag the page starts after; must exist
	Limit  int    // zero or less: no bound
}

// NamespaceSortKeys and TagSortKeys are the columns a listing may sort
// on: the record's columns, as Glance's paginate_query accepts them.
var (
	NamespaceSortKeys = []string{"created_at", "updated_at", "namespace", "display_name", "description",
		"visibility", "protected", "owner", "id"}
	TagSortKeys = []string{"created_at", "updated_at", "name", "id"}
)

// ImportMode says what loading a definition does to a namespace that
// already exists.
type ImportMode int

const (
	// ImportCreate leaves an existing namespace alone (Glance's default).
	ImportCreate ImportMode = iota
	// ImportMerge updates the namespace's fields and adds or replaces
	// each association, property, object and tag the file has, keeping
	// the ones only the database has.
	ImportMerge
	// ImportReplace makes the namespace exactly what the file says.
	ImportReplace
)

// ImportResult says what ImportDefinition did.
type ImportResult string

const (
	ImportCreated  ImportResult = "created"
	ImportSkipped  ImportResult = "skipped"
	ImportMerged   ImportResult = "merged"
	ImportReplaced ImportResult = "replaced"
)
