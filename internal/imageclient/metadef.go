package imageclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"

	"github.com/gophercloud/gophercloud/v2"
)

// The metadata definitions catalog (/v2/metadefs): namespaces of typed
// properties, objects and tags, associated with resource types.

// Namespace is a namespace as listed or shown. Properties and Objects
// keep each definition's JSON as the server sent it.
type Namespace struct {
	Namespace    string        `json:"namespace"`
	DisplayName  string        `json:"display_name,omitempty"`
	Description  string        `json:"description,omitempty"`
	Visibility   string        `json:"visibility,omitempty"`
	Protected    bool          `json:"protected"`
	Owner        string        `json:"owner,omitempty"`
	CreatedAt    string        `json:"created_at,omitempty"`
	UpdatedAt    string        `json:"updated_at,omitempty"`
	Associations []Association `json:"resource_type_associations,omitempty"`

	Properties map[string]json.RawMessage `json:"properties,omitempty"`
	Objects    []MetadefObject            `json:"objects,omitempty"`
	Tags       []MetadefTag               `json:"tags,omitempty"`
}

// Association ties a namespace to a resource type, with the prefix its
// property names take there.
type Association struct {
	Name             string `json:"name"`
	Prefix           string `json:"prefix,omitempty"`
	PropertiesTarget string `json:"properties_target,omitempty"`
}

// MetadefObject is a named group of properties.
type MetadefObject struct {
	Name        string                     `json:"name"`
	Description string                     `json:"description,omitempty"`
	Required    []string                   `json:"required,omitempty"`
	Properties  map[string]json.RawMessage `json:"properties,omitempty"`
}

// MetadefTag is a tag a namespace suggests.
type MetadefTag struct {
	Name string `json:"name"`
}

// NamespacePage is one page of GET /v2/metadefs/namespaces.
type NamespacePage struct {
	Namespaces []*Namespace `json:"namespaces"`
	Next       string       `json:"next"`
}

// ListNamespaces fetches one page of namespaces; q holds the API's
// parameters (limit, marker, resource_types, visibility, sort_key...).
func ListNamespaces(ctx context.Context, c *gophercloud.ServiceClient, q url.Values) (*NamespacePage, error) {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	u := c.ServiceURL("metadefs", "namespaces")
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var p NamespacePage
	if _, err := c.Get(ctx, u, &p, &gophercloud.RequestOpts{OkCodes: []int{200}}); err != nil {
		return nil, Describe(err)
	}
	return &p, nil
}

// GetNamespace shows a namespace with its properties, objects and tags;
// resourceType, when set, applies that association's prefix to the
// property names.
func GetNamespace(ctx context.Context, c *gophercloud.ServiceClient, name, resourceType string) (*Namespace, error) {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	u := c.ServiceURL("metadefs", "namespaces", url.PathEscape(name))
	if resourceType != "" {
		u += "?" + url.Values{"resource_type": {resourceType}}.Encode()
	}
	var ns Namespace
	if _, err := c.Get(ctx, u, &ns, &gophercloud.RequestOpts{OkCodes: []int{200}}); err != nil {
		return nil, Describe(err)
	}
	return &ns, nil
}

// CreateNamespace creates a namespace from a Glance-format document (the
// namespace's fields with its properties, objects, tags and resource
// type associations), as glance-manage db_load_metadefs reads them.
func CreateNamespace(ctx context.Context, c *gophercloud.ServiceClient, doc json.RawMessage) (*Namespace, error) {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	var ns Namespace
	_, err := c.Post(ctx, c.ServiceURL("metadefs", "namespaces"), rawJSON(doc), &ns, &gophercloud.RequestOpts{OkCodes: []int{201}})
	if err != nil {
		return nil, Describe(err)
	}
	return &ns, nil
}

// NamespaceUpdate is what PUT /v2/metadefs/namespaces/{name} sets.
type NamespaceUpdate struct {
	Namespace   string `json:"namespace"`
	DisplayName string `json:"display_name,omitempty"`
	Description string `json:"description,omitempty"`
	Visibility  string `json:"visibility,omitempty"`
	Protected   bool   `json:"protected"`
	Owner       string `json:"owner,omitempty"`
}

// UpdateNamespace changes a namespace's own fields (its contents stay).
func UpdateNamespace(ctx context.Context, c *gophercloud.ServiceClient, name string, u NamespaceUpdate) (*Namespace, error) {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	var ns Namespace
	_, err := c.Put(ctx, c.ServiceURL("metadefs", "namespaces", url.PathEscape(name)), u, &ns, &gophercloud.RequestOpts{OkCodes: []int{200}})
	if err != nil {
		return nil, Describe(err)
	}
	return &ns, nil
}

// DeleteNamespace deletes a namespace and everything in it.
func DeleteNamespace(ctx context.Context, c *gophercloud.ServiceClient, name string) error {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	_, err := c.Delete(ctx, c.ServiceURL("metadefs", "namespaces", url.PathEscape(name)), &gophercloud.RequestOpts{OkCodes: []int{204}})
	return Describe(err)
}

// rawJSON sends a document as it is.
type rawJSON json.RawMessage

func (r rawJSON) MarshalJSON() ([]byte, error) {
	if !json.Valid(r) {
		return nil, errors.New("the namespace document is not valid JSON")
	}
	return bytes.TrimSpace(r), nil
}
