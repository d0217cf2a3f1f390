package metadef

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/glint-image/glint/internal/caller"
)

// Catalog holds the property definitions that apply to one resource type,
// under the names they take there (the association's prefix applied), so
// that values can be checked against them. Checking is advice on request
// (the dashboard's editor, `glint image set --validate`): glint, like
// Glance, never refuses an image property because of the catalog.
type Catalog struct {
	defs map[string][]entry
}

type entry struct {
	namespace string
	pt        *PropertyType
}

// Violation is a value that breaks a definition.
type Violation struct {
	Property  string
	Value     string
	Namespace string
	Problem   string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s=%q: %s (%s)", v.Property, v.Value, v.Problem, v.Namespace)
}

// NewCatalog builds the catalog of resourceType from stored definitions:
// the namespaces associated with it, their properties and their objects'
// properties, prefixed as the association says.
func NewCatalog(resourceType string, defs []*Definition) (*Catalog, error) {
	c := &Catalog{defs: map[string][]entry{}}
	for _, d := range defs {
		i := slices.IndexFunc(d.Associations, func(a Association) bool { return a.Name == resourceType })
		if i < 0 {
			continue
		}
		prefix := str(d.Associations[i].Prefix)
		props := slices.Clone(d.Properties)
		for _, ob := range d.Objects {
			props = append(props, ob.Properties...)
		}
		for _, p := range props {
			if err := c.Add(d.Name, prefix+p.Name, p.Schema); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// Add puts one definition into the catalog under name, for clients that
// read definitions with their prefixes already applied (a namespace shown
// with ?resource_type=).
func (c *Catalog) Add(namespace, name string, schema json.RawMessage) error {
	pt, err := ParsePropertyType(schema)
	if err != nil {
		return fmt.Errorf("%s %s: %w", namespace, name, err)
	}
	if c.defs == nil {
		c.defs = map[string][]entry{}
	}
	c.defs[name] = append(c.defs[name], entry{namespace: namespace, pt: pt})
	return nil
}

// Defines reports whether the catalog has a definition for name.
func (c *Catalog) Defines(name string) bool { return len(c.defs[name]) > 0 }

// Len is the number of property names the catalog defines.
func (c *Catalog) Len() int { return len(c.defs) }

// Check returns the values of props that break their definitions, in
// property name order. Properties the catalog does not define are fine.
// A name several namespaces define is fine when any definition accepts
// the value.
func (c *Catalog) Check(props map[string]string) []Violation {
	var out []Violation
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		entries := c.defs[name]
		if len(entries) == 0 {
			continue
		}
		var first *Violation
		for _, e := range entries {
			problem := e.pt.Check(props[name])
			if problem == "" {
				first = nil
				break
			}
			if first == nil {
				first = &Violation{Property: name, Value: props[name], Namespace: e.namespace, Problem: problem}
			}
		}
		if first != nil {
			out = append(out, *first)
		}
	}
	return out
}

// Check says what is wrong with value under this definition, or "".
// Image properties are text, so values are read as Nova and Horizon read
// them: integers and numbers in decimal, booleans as oslo's strings
// (true/false, yes/no, 1/0, on/off, ...), arrays as comma-separated
// items or an operator expression ("<or> a <or> b").
func (pt *PropertyType) Check(value string) string {
	switch pt.Type {
	case "integer":
		n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		if err != nil {
			return "must be an integer"
		}
		return pt.checkNumber(json.Number(strconv.FormatInt(n, 10)), value)
	case "number":
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return "must be a number"
		}
		return pt.checkNumber(json.Number(strconv.FormatFloat(f, 'g', -1, 64)), value)
	case "boolean":
		if _, ok := parseBool(value); !ok {
			return "must be true or false"
		}
		return ""
	case "array":
		return pt.checkArray(value)
	case "object":
		return ""
	}
	return pt.checkString(value)
}

func (pt *PropertyType) checkNumber(n json.Number, value string) string {
	if pt.Minimum != nil && compareNumbers(n, *pt.Minimum) < 0 {
		return "must be at least " + numberText(pt.Minimum)
	}
	if pt.Maximum != nil && compareNumbers(n, *pt.Maximum) > 0 {
		return "must be at most " + numberText(pt.Maximum)
	}
	if len(pt.Enum) > 0 {
		for _, e := range pt.Enum {
			if en := json.Number(e); isNumberText(e) && compareNumbers(n, en) == 0 {
				return ""
			}
		}
		return "must be one of " + strings.Join(pt.Enum, ", ")
	}
	return ""
}

func isNumberText(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func (pt *PropertyType) checkString(value string) string {
	if len(pt.Enum) > 0 && !slices.Contains(pt.Enum, value) {
		return "must be one of " + strings.Join(pt.Enum, ", ")
	}
	n := int64(utf8.RuneCountInString(value))
	if pt.MinLength != nil && n < *pt.MinLength {
		return fmt.Sprintf("must be at least %d characters long", *pt.MinLength)
	}
	if pt.MaxLength != nil && n > *pt.MaxLength {
		return fmt.Sprintf("must be at most %d characters long", *pt.MaxLength)
	}
	if pt.pattern != nil && !pt.pattern.MatchString(value) {
		return pt.formProblem()
	}
	return ""
}

// formProblem says that a value breaks the pattern in words people read:
// the definition's own description of the form (the shipped ones say
// "Date (YYYY-MM-DD) ..."), never the regular expression itself.
func (pt *PropertyType) formProblem() string {
	d := strings.TrimSpace(pt.Description)
	if d == "" {
		if pt.Title != "" {
			return "is not in the form " + pt.Title + " takes"
		}
		return "is not in the expected form"
	}
	return "is not in the expected form: " + strings.TrimSuffix(d, ".")
}

func (pt *PropertyType) checkArray(value string) string {
	var items []string
	if strings.HasPrefix(strings.TrimSpace(value), "<") {
		for _, f := range strings.Fields(value) {
			if !strings.HasPrefix(f, "<") || !strings.HasSuffix(f, ">") {
				items = append(items, f)
			}
		}
	} else {
		for _, f := range strings.Split(value, ",") {
			if f = strings.TrimSpace(f); f != "" {
				items = append(items, f)
			}
		}
	}
	n := int64(len(items))
	if pt.MinItems != nil && n < *pt.MinItems {
		return fmt.Sprintf("must have at least %d items", *pt.MinItems)
	}
	if pt.MaxItems != nil && n > *pt.MaxItems {
		return fmt.Sprintf("must have at most %d items", *pt.MaxItems)
	}
	if pt.UniqueItems {
		seen := map[string]bool{}
		for _, it := range items {
			if seen[it] {
				return "must not repeat " + it
			}
			seen[it] = true
		}
	}
	if len(pt.ItemEnum) > 0 {
		for _, it := range items {
			if !slices.Contains(pt.ItemEnum, it) {
				return fmt.Sprintf("item %s must be one of %s", it, strings.Join(pt.ItemEnum, ", "))
			}
		}
	}
	return ""
}

// parseBool reads oslo.utils' boolean strings, case-insensitively.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true, true
	case "0", "f", "false", "off", "n", "no":
		return false, true
	}
	return false, false
}

// ImageCatalog returns the catalog of image properties the caller may
// see: every namespace associated with OS::Glance::Image, read with the
// caller's rights.
func (s *Service) ImageCatalog(ctx context.Context, p caller.Principal) (*Catalog, error) {
	var defs []*Definition
	req := ListRequest{ResourceTypes: []string{ResourceTypeImage}, Limit: &s.opts.MaxLimit}
	for {
		page, err := s.ListNamespaces(ctx, p, req)
		if err != nil {
			return nil, err
		}
		for _, ns := range page.Namespaces {
			d, err := s.GetNamespace(ctx, p, ns.Name, "")
			if err != nil {
				continue // gone or hidden meanwhile
			}
			defs = append(defs, d)
		}
		if page.Next == "" {
			break
		}
		req.Marker = page.Next
	}
	return NewCatalog(ResourceTypeImage, defs)
}
