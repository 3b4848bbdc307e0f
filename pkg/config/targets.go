package config

import (
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"relpack/pkg/abi"
	"relpack/pkg/distro"
)

// Target is one distro target to package for.
type Target struct {
	distro.Distro
	// Inputs overrides the release's inputs for this target's packages
	// (triple -> path), e.g. a gnu build linked against the distro's own Z3
	// soname. Tarballs always use the release's inputs.
	Inputs map[string]string
}

// Input returns the binary to package for a triple on this target.
func (t Target) Input(c *Config, triple string) string {
	if p, ok := t.Inputs[triple]; ok {
		return p
	}
	return c.Inputs[triple]
}

// rawTargets keeps the entries as nodes: each is a catalogue id or a
// mapping, decoded by decodeTarget with its own lines.
type rawTargets struct {
	Targets []yaml.Node `yaml:"targets"`
}

// targets loads targets: (catalogue ids or inline distros, each once, none
// below the floor, per-target gnu inputs). It reads Config.Floor and adds
// Config.Targets, the line of each target and the ids seen.
func (l *loader) targets() {
	c := l.c
	for _, n := range l.r.Targets {
		n := n
		d, tin, terrs := decodeTarget(l.file, c.Dir, &n)
		l.errs = append(l.errs, terrs...)
		if len(terrs) > 0 {
			continue
		}
		if l.seen[d.ID] {
			l.failAt(n.Line, "target %s is listed twice", d.ID)
			continue
		}
		l.seen[d.ID] = true
		if c.Floor.Glibc != "" && abi.CompareVersions(d.Glibc, c.Floor.Glibc) < 0 {
			l.failAt(n.Line, "target %s ships glibc %s, below the promised floor %s: binaries built for the floor may not start there. Remove the target or lower floor.glibc",
				d.ID, d.Glibc, c.Floor.Glibc)
			continue
		}
		c.lines["target:"+d.ID] = n.Line
		t := Target{Distro: d, Inputs: map[string]string{}}
		for _, triple := range slices.Sorted(maps.Keys(tin)) {
			if !TripleRE.MatchString(triple) || !strings.HasSuffix(triple, "-gnu") {
				l.failAt(n.Line, "target %s: inputs: %q is not a gnu target triple (packages hold glibc builds)", d.ID, triple)
				continue
			}
			t.Inputs[triple] = c.abs(tin[triple])
		}
		c.Targets = append(c.Targets, t)
	}
}

// targetsGiven requires targets:. It runs last, after the private:
// checks, because that is the order the messages have always come in
// (a missing key reports at the file's first line, where others may too).
func (l *loader) targetsGiven() {
	if len(l.r.Targets) == 0 {
		l.fail("targets", "targets is empty: list distro ids (%s) or define one inline", strings.Join(distro.IDs(), ", "))
	}
}

// decodeTarget reads one targets entry: a catalogue id, or a mapping that
// either defines a new distro or (with the id of a built-in one) overrides
// some of its fields, e.g. to add a soname mapping.
func decodeTarget(file, dir string, n *yaml.Node) (distro.Distro, map[string]string, Errors) {
	switch n.Kind {
	case yaml.ScalarNode:
		d, ok := distro.Lookup(n.Value)
		if !ok {
			return distro.Distro{}, nil, errAt(file, n.Line, "unknown distro target %q: built-in ones are %s; define a new one inline (docs/config.md, \"Adding a distro target\")",
				n.Value, strings.Join(distro.IDs(), ", "))
		}
		return d, nil, nil
	case yaml.MappingNode:
	default:
		return distro.Distro{}, nil, errAt(file, n.Line, "a target is a distro id or a mapping of distro fields")
	}
	fields, inputs, errs := splitTargetInputs(file, n)
	if errs != nil {
		return distro.Distro{}, nil, errs
	}
	d, errs := decodeDistro(file, dir, fields)
	if d == nil {
		return distro.Distro{}, nil, errs
	}
	return *d, inputs, errs
}

// errAt is one error at a line, as Errors.
func errAt(file string, line int, format string, args ...any) Errors {
	return Errors{&Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}}
}

// splitTargetInputs checks a target mapping's keys and splits it: the
// distro fields, as a copy of n without the inputs key (which belongs to
// the release rather than to the distro), and the inputs.
func splitTargetInputs(file string, n *yaml.Node) (*yaml.Node, map[string]string, Errors) {
	allowed := yamlKeys(reflect.TypeOf(distro.Distro{}))
	allowed["inputs"] = true
	fields := *n
	fields.Content = nil
	var inputs map[string]string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !allowed[k.Value] {
			return nil, nil, errAt(file, k.Line, "unknown field %q in a distro target; known fields: %s", k.Value, strings.Join(slices.Sorted(maps.Keys(allowed)), ", "))
		}
		if k.Value == "inputs" {
			if err := v.Decode(&inputs); err != nil {
				return nil, nil, Errors{yamlError(file, err).(*Error)}
			}
			continue
		}
		fields.Content = append(fields.Content, k, v)
	}
	return &fields, inputs, nil
}

// decodeDistro decodes a target's distro fields over the catalogue entry
// of the same id, if any, then loads its facts and validates it. It
// returns nil only when the fields do not decode.
func decodeDistro(file, dir string, n *yaml.Node) (*distro.Distro, Errors) {
	var d distro.Distro
	if id := mapValue(n, "id"); id != nil {
		if base, ok := distro.Lookup(id.Value); ok {
			d = base
			// Copy the map so an override never edits the catalogue.
			d.Sonames = map[string]string{}
			for k, v := range base.Sonames {
				d.Sonames[k] = v
			}
		}
	}
	if err := n.Decode(&d); err != nil {
		return nil, Errors{yamlError(file, err).(*Error)}
	}
	var errs Errors
	// A target's own facts: files `relpack distro capture` wrote, relative
	// to packaging.yaml's folder (and inside it: fs.ValidPath refuses "..").
	if k := mapKey(n, "facts"); k != nil {
		if err := d.LoadFacts(os.DirFS(dir)); err != nil {
			errs = append(errs, &Error{File: file, Line: k.Line, Msg: err.Error()})
		}
	}
	for _, fe := range d.Validate() {
		line := n.Line
		if v := mapKey(n, fe.Field); v != nil {
			line = v.Line
		}
		errs = append(errs, &Error{File: file, Line: line, Msg: fmt.Sprintf("target %s: %s", d.ID, fe.Msg)})
	}
	return &d, errs
}
