package metadef

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Definition files in Glance's format (etc/metadefs/*.json, read by
// glance-manage db_load_metadefs and written by db_export_metadefs): one
// namespace per file with its resource type associations, properties,
// objects and tags. Reading is as lenient as Glance's loader where that
// is safe (nulls, as Glance's export writes them, mean "not set";
// attributes only an API answer has are ignored) and strict where Glance
// would store something broken: every file must match the namespace
// schema and the text rules before anything is written.

// DefaultOwner owns namespaces whose file names no owner, as with
// Glance's loader.
const DefaultOwner = "admin"

// maxFileSize bounds one definition file; Glance's largest is 19 KB.
const maxFileSize = 4 << 20

// ReadDefinition parses one definition file. owner is used when the file
// names none.
func ReadDefinition(data []byte, owner string) (*Definition, error) {
	v, err := decodeOrdered(data)
	if err != nil {
		return nil, errors.New("not valid JSON")
	}
	doc, ok := v.(*object)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	dropNulls(doc)
	for _, k := range readOnlyNamespace {
		doc.del(k)
	}
	for _, key := range []string{"resource_type_associations", "objects", "tags"} {
		if l, ok := doc.vals[key].([]any); ok {
			for _, e := range l {
				if item, ok := e.(*object); ok {
					dropNulls(item)
					for _, k := range readOnlyNamespace {
						item.del(k)
					}
				}
			}
		}
	}
	if err := validateSchema("namespace", namespaceSchema(fileBody), doc); err != nil {
		return nil, err
	}
	// Property definitions are kept as written: Glance's loader stores
	// them verbatim, and an export writes them back unchanged.
	d, err := definitionFrom(doc, func(def *object) *object { return def })
	if err != nil {
		return nil, err
	}
	if d.Owner == "" {
		d.Owner = owner
	}
	if d.Visibility == "" {
		d.Visibility = VisibilityPrivate
	}
	if err := checkDefinition(d); err != nil {
		return nil, err
	}
	return d, nil
}

func dropNulls(o *object) {
	for _, k := range slices.Clone(o.keys) {
		if o.vals[k] == nil {
			o.del(k)
		}
	}
}

// File is a definition read from a file.
type File struct {
	Path string
	Def  *Definition
}

// ReadFiles reads the definition files path names: one file, or every
// *.json file of a directory in name order. Every file is read and
// checked; the error lists each bad file, and a namespace that two files
// define.
func ReadFiles(path, owner string) ([]File, error) {
	paths := []string{path}
	if info, err := os.Stat(path); err != nil {
		return nil, err
	} else if info.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		paths = paths[:0]
		for _, e := range entries {
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".json") {
				paths = append(paths, filepath.Join(path, e.Name()))
			}
		}
		if len(paths) == 0 {
			return nil, fmt.Errorf("%s: no .json definition files", path)
		}
	}
	var files []File
	var problems []error
	seen := map[string]string{}
	for _, p := range paths {
		d, err := readFile(p, owner)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", p, err))
			continue
		}
		if other, dup := seen[d.Name]; dup {
			problems = append(problems, fmt.Errorf("%s: namespace %s is also defined in %s", p, d.Name, other))
			continue
		}
		seen[d.Name] = p
		files = append(files, File{Path: p, Def: d})
	}
	return files, errors.Join(problems...)
}

func readFile(path, owner string) (*Definition, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(io.LimitReader(f, maxFileSize+1)); err != nil {
		return nil, err
	}
	if b.Len() > maxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	return ReadDefinition(b.Bytes(), owner)
}

// WriteDefinition renders a definition as a file in Glance's format,
// indented as Glance's shipped files are. Unset fields are left out;
// glint writes the owner and objects' required lists, which Glance's
// export drops.
func WriteDefinition(d *Definition) ([]byte, error) {
	doc := o("namespace", d.Name)
	if d.DisplayName != nil {
		doc.set("display_name", *d.DisplayName)
	}
	if d.Description != nil {
		doc.set("description", *d.Description)
	}
	doc.set("visibility", d.Visibility).set("protected", d.Protected).set("owner", d.Owner)
	assocs := []any{}
	for _, a := range d.Associations {
		item := o("name", a.Name)
		if a.Prefix != nil {
			item.set("prefix", *a.Prefix)
		}
		if a.PropertiesTarget != nil {
			item.set("properties_target", *a.PropertiesTarget)
		}
		assocs = append(assocs, item)
	}
	doc.set("resource_type_associations", assocs)
	props, err := propertiesDoc(d.Properties)
	if err != nil {
		return nil, err
	}
	doc.set("properties", props)
	objs := []any{}
	for _, ob := range d.Objects {
		item := o("name", ob.Name)
		if ob.Description != nil {
			item.set("description", *ob.Description)
		}
		req := make([]any, 0, len(ob.Required))
		for _, r := range ob.Required {
			req = append(req, r)
		}
		item.set("required", req)
		p, err := propertiesDoc(ob.Properties)
		if err != nil {
			return nil, err
		}
		item.set("properties", p)
		objs = append(objs, item)
	}
	doc.set("objects", objs)
	tags := []any{}
	for _, t := range d.Tags {
		tags = append(tags, o("name", t.Name))
	}
	doc.set("tags", tags)
	raw, err := doc.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "    "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func propertiesDoc(props []Property) (*object, error) {
	out := newObj()
	for _, p := range props {
		v, err := decodeOrdered(p.Schema)
		if err != nil {
			return nil, fmt.Errorf("property %s: %w", p.Name, err)
		}
		out.set(p.Name, v)
	}
	return out, nil
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// FileName is the file an export writes a namespace to:
// OS::Compute::Watchdog becomes OS-Compute-Watchdog.json.
func FileName(namespace string) string {
	name := strings.Trim(unsafeFileChars.ReplaceAllString(strings.ReplaceAll(namespace, "::", "-"), "_"), "._")
	if name == "" {
		name = "namespace"
	}
	return name + ".json"
}

// Load writes definitions read from files, each namespace in one
// transaction, and says what happened to each.
func Load(ctx context.Context, st Store, defs []*Definition, mode ImportMode, now time.Time) ([]ImportResult, error) {
	out := make([]ImportResult, 0, len(defs))
	for _, d := range defs {
		res, err := st.ImportDefinition(ctx, d, mode, now.UTC().Truncate(time.Microsecond))
		if err != nil {
			return out, fmt.Errorf("namespace %s: %w", d.Name, err)
		}
		out = append(out, res)
	}
	return out, nil
}

// Export returns every namespace with its contents, in name order.
func Export(ctx context.Context, st Store) ([]*Definition, error) {
	rows, err := st.ListNamespaces(ctx, NamespaceQuery{Caller: Scope{Admin: true}, Sort: "namespace"})
	if err != nil {
		return nil, err
	}
	out := make([]*Definition, 0, len(rows))
	for _, r := range rows {
		d, err := st.GetDefinition(ctx, r.Name)
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// WriteFiles writes one file per definition into dir (created if
// needed), each through a temporary file renamed into place. Two
// namespaces whose file names would clash get numbered names.
func WriteFiles(dir string, defs []*Definition) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	used := map[string]bool{}
	var written []string
	for _, d := range defs {
		data, err := WriteDefinition(d)
		if err != nil {
			return written, fmt.Errorf("namespace %s: %w", d.Name, err)
		}
		name := FileName(d.Name)
		for i := 2; used[strings.ToLower(name)]; i++ {
			name = strings.TrimSuffix(FileName(d.Name), ".json") + fmt.Sprintf("-%d.json", i)
		}
		used[strings.ToLower(name)] = true
		path := filepath.Join(dir, name)
		if err := writeAtomic(path, data); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".metadef-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// readShipped parses the definitions in fsys (the embedded ones).
func readShipped(fsys fs.FS) ([]*Definition, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var defs []*Definition
	for _, e := range entries {
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		d, err := ReadDefinition(data, DefaultOwner)
		if err != nil {
			return nil, fmt.Errorf("shipped definition %s: %w", e.Name(), err)
		}
		defs = append(defs, d)
	}
	return defs, nil
}
