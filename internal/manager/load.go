package manager

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong in a definition file, located by file, line
// and key.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column,omitempty"`
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc += fmt.Sprintf(":%d", p.Line)
		if p.Column > 0 {
			loc += fmt.Sprintf(":%d", p.Column)
		}
	}
	if p.Key == "" {
		return loc + ": " + p.Message
	}
	return loc + ": " + p.Key + ": " + p.Message
}

// ValidationError is every problem found in the files; nothing is done
// to a cloud while there is one.
type ValidationError struct{ Problems []Problem }

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("%d problem(s) in the image definitions:\n  %s", len(e.Problems), strings.Join(lines, "\n  "))
}

// Catalog is what was read from --images: the definitions of every file,
// in file-name order and in the order of each file.
type Catalog struct {
	Files       []string
	Definitions []Definition
	// Directory is true when --images named a directory: the catalog is
	// then the whole set of definitions, and managed images whose
	// definition is in none of its files are leftovers of removed ones.
	Directory bool
}

// LoadOptions change how files are read.
type LoadOptions struct {
	// NoCheck lets meta keys the schema does not know through as image
	// properties, as the tool's --no-check does. Everything else is
	// still checked: a definition glint cannot read is never applied.
	NoCheck bool
}

// maxFileSize bounds one definition file; the largest catalog file the
// OSISM project ships is 13 KiB.
const maxFileSize = 4 << 20

// Load reads and validates a directory of definition files (every *.yml
// and *.yaml in it, by name, except a yamale schema.yaml kept beside
// them) or a single file.
func Load(path string, opts LoadOptions) (*Catalog, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--images: %w", err)
	}
	cat := &Catalog{Directory: info.IsDir()}
	if cat.Directory {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("--images: %w", err)
		}
		for _, e := range entries {
			name := e.Name()
			ext := filepath.Ext(name)
			if e.IsDir() || strings.HasPrefix(name, ".") || (ext != ".yml" && ext != ".yaml") ||
				name == "schema.yaml" || name == "schema.yml" {
				continue
			}
			cat.Files = append(cat.Files, filepath.Join(path, name))
		}
		slices.Sort(cat.Files)
		if len(cat.Files) == 0 {
			return nil, fmt.Errorf("--images: no *.yml or *.yaml files in %s", path)
		}
	} else {
		cat.Files = []string{path}
	}
	var problems []Problem
	for _, file := range cat.Files {
		defs, ps := loadFile(file, opts)
		problems = append(problems, ps...)
		cat.Definitions = append(cat.Definitions, defs...)
	}
	problems = append(problems, crossCheck(cat.Definitions)...)
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	return cat, nil
}

// validation collects the problems of one file.
type validation struct {
	file     string
	noCheck  bool
	problems []Problem
}

func (v *validation) problem(n *yaml.Node, key, format string, args ...any) {
	v.problems = append(v.problems, Problem{File: v.file, Line: n.Line, Column: n.Column, Key: key,
		Message: fmt.Sprintf(format, args...)})
}

func loadFile(file string, opts LoadOptions) ([]Definition, []Problem) {
	v := &validation{file: file, noCheck: opts.NoCheck}
	fail := func(msg string) ([]Definition, []Problem) {
		return nil, append(v.problems, Problem{File: file, Message: msg})
	}
	f, err := os.Open(file)
	if err != nil {
		return fail(err.Error())
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return fail(err.Error())
	}
	if len(raw) > maxFileSize {
		return fail(fmt.Sprintf("larger than %d bytes", maxFileSize))
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return fail("empty file: expected a mapping with an images: list")
		}
		line, msg := yamlSyntaxError(err)
		return nil, append(v.problems, Problem{File: file, Line: line, Message: "not valid YAML: " + msg})
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fail("more than one YAML document (a file holds one mapping with an images: list)")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	fileSchema.validate(v, root, "")
	if len(v.problems) > 0 {
		return nil, v.problems
	}
	images := lookup(root, "images")
	defs := make([]Definition, 0, len(images.Content))
	for i, n := range images.Content {
		defs = append(defs, v.definition(n, fmt.Sprintf("images[%d]", i)))
	}
	return defs, v.problems
}

// yamlParserProblems are the syntax errors the YAML library's parser
// (not its scanner) reports. For these it gives the line counted from 0,
// which names the line before the one the error is on.
var yamlParserProblems = []string{"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"did not find expected '-' indicator", "did not find expected <document start>", "did not find expected <stream-start>",
	"did not find expected key", "did not find expected node content", "found duplicate %TAG directive",
	"found duplicate %YAML directive", "found incompatible YAML document", "found undefined tag handle"}

var yamlLineRE = lazy(`^yaml: line (\d+): (.*)$`)

// yamlSyntaxError is the 1-based line and the message of a syntax error
// from the YAML library (line 0: not known).
func yamlSyntaxError(err error) (int, string) {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if slices.Contains(yamlParserProblems, msg) {
			return 1, msg // the library leaves out line 1 (0 counted from 0)
		}
		return 0, msg
	}
	line, _ := strconv.Atoi(m[1])
	if slices.Contains(yamlParserProblems, m[2]) {
		line++
	}
	return line, m[2]
}

// lookup is the value of key in a mapping node, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func text(n *yaml.Node, key string) string {
	if val := lookup(n, key); val != nil && kindOf(val) != kindNull {
		return val.Value
	}
	return ""
}

func flag(n *yaml.Node, key string) bool {
	val := lookup(n, key)
	return val != nil && kindOf(val) == kindBool && boolValue(val)
}

func number(n *yaml.Node, key string) int {
	if val := lookup(n, key); val != nil {
		if x, err := intValue(val); err == nil {
			return int(x)
		}
	}
	return 0
}

// definition converts a schema-valid node.
func (v *validation) definition(n *yaml.Node, key string) Definition {
	d := Definition{File: v.file, Line: n.Line, Name: text(n, "name"), Enable: flag(n, "enable"),
		Format: text(n, "format"), Login: text(n, "login"), MinDisk: number(n, "min_disk"),
		MinRAM: number(n, "min_ram"), Multi: flag(n, "multi"), Keep: flag(n, "keep"),
		Status: text(n, "status"), Visibility: text(n, "visibility"), Separator: " "}
	if sep := lookup(n, "separator"); sep != nil {
		d.Separator = sep.Value
	}
	for _, t := range lookup(n, "tags").Content {
		d.Tags = append(d.Tags, t.Value)
	}
	d.Meta = v.meta(lookup(n, "meta"), key+".meta")
	for i, vn := range lookup(n, "versions").Content {
		d.Versions = append(d.Versions, v.version(vn, fmt.Sprintf("%s.versions[%d]", key, i)))
	}
	v.checkDefinition(&d, n, key)
	return d
}

func (v *validation) version(n *yaml.Node, key string) Version {
	ver := Version{Line: n.Line, Version: text(n, "version"), URL: text(n, "url"), MirrorURL: text(n, "mirror_url"),
		Checksum: text(n, "checksum"), ChecksumsURL: text(n, "checksums_url"), ChecksumURL: text(n, "checksum_url"),
		OSVersion: text(n, "os_version"), Visibility: text(n, "visibility"), ID: text(n, "id")}
	ver.BuildDate, _ = dateValue(lookup(n, "build_date"))
	if h := lookup(n, "hidden"); h != nil {
		hidden := boolValue(h)
		ver.Hidden = &hidden
	}
	if m := lookup(n, "meta"); m != nil {
		ver.Meta = v.meta(m, key+".meta")
	}
	return ver
}

// meta turns a meta mapping into property strings.
func (v *validation) meta(n *yaml.Node, key string) map[string]string {
	props := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		s, ok := pyString(val)
		if !ok {
			if kind := kindOf(val); kind == kindMap || kind == kindList {
				v.problem(val, joinKey(key, k.Value), "must be a single value, not %s", kind)
			}
			continue
		}
		props[k.Value] = s
	}
	return props
}
