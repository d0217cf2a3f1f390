package stores

import (
	"encoding/json"

	"github.com/gophercloud/gophercloud/v2"
)

// Store is one image store.
type Store struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	// Default marks the store uploads go to when they name none.
	Default bool `json:"-"`
	// Type and Properties are only in ListDetail's answer.
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties"`
}

// UnmarshalJSON reads "default", which Glance sends as the string "true"
// and which other servers may send as a boolean.
func (s *Store) UnmarshalJSON(b []byte) error {
	type plain Store
	var raw struct {
		plain
		Default any `json:"default"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*s = Store(raw.plain)
	switch v := raw.Default.(type) {
	case bool:
		s.Default = v
	case string:
		s.Default = v == "true" || v == "True"
	}
	return nil
}

// ListResult is the answer of List or ListDetail.
type ListResult struct {
	gophercloud.Result
}

// Extract returns the stores.
func (r ListResult) Extract() ([]Store, error) {
	var s struct {
		Stores []Store `json:"stores"`
	}
	err := r.ExtractInto(&s)
	return s.Stores, err
}
