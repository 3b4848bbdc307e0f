package config

import (
	"maps"
	"slices"
	"strings"
)

// What a build does with an input that has no GNU build-id when
// debug_symbols.split is on (debug_symbols.without_build_id).
const (
	// WithoutBuildIDRefuse refuses the build: nothing could find the
	// input's debug file (the default).
	WithoutBuildIDRefuse = "refuse"
	// WithoutBuildIDUnstripped ships the input as given, unstripped, with
	// no debug artifact, and warns.
	WithoutBuildIDUnstripped = "unstripped"
)

// DebugSymbols says whether and how a build splits its inputs' debug
// symbols into debug artifacts (docs/config.md, "Debug symbols";
// docs/debug-symbols.md).
type DebugSymbols struct {
	// Split splits every input: its packaged binary keeps what runs and a
	// .gnu_debuglink, its debug file goes into the debug artifacts.
	Split bool
	// WithoutBuildID is WithoutBuildIDRefuse or WithoutBuildIDUnstripped.
	WithoutBuildID string
	// Files maps an input (absolute, as in Inputs or Target.Inputs) to
	// its separate debug file (absolute): the input is stripped already,
	// or its debug file is made apart from it.
	Files map[string]string
}

type rawDebugSymbols struct {
	DebugSymbols *rawDebugSymbolsSection `yaml:"debug_symbols"`
}

type rawDebugSymbolsSection struct {
	Split          bool              `yaml:"split"`
	WithoutBuildID string            `yaml:"without_build_id"`
	Files          map[string]string `yaml:"files"`
}

// debugSymbols loads debug_symbols: (split, without_build_id, files). It
// reads Config.Inputs and Config.Targets (every key of files is one of
// their inputs) and adds Config.DebugSymbols (nil when the section is
// absent) and the lines of its keys.
func (l *loader) debugSymbols() {
	r := l.r.DebugSymbols
	if r == nil {
		return
	}
	c := l.c
	for _, k := range []string{"split", "without_build_id", "files"} {
		c.lines["debug_symbols."+k] = lineOf(l.root, "debug_symbols."+k)
	}
	c.lines["debug_symbols"] = lineOf(l.root, "debug_symbols")
	d := &DebugSymbols{Split: r.Split, WithoutBuildID: r.WithoutBuildID, Files: map[string]string{}}
	switch d.WithoutBuildID {
	case "":
		d.WithoutBuildID = WithoutBuildIDRefuse
	case WithoutBuildIDRefuse, WithoutBuildIDUnstripped:
	default:
		l.fail("debug_symbols.without_build_id", "debug_symbols.without_build_id: unknown value %q; use refuse (the default: a binary without a build-id stops the build) or unstripped (ship it as given, with no debug artifact)", r.WithoutBuildID)
	}
	if len(r.Files) > 0 && !r.Split {
		l.fail("debug_symbols.files", "debug_symbols.files gives debug files, but debug_symbols.split is not true: nothing would use them. Add `split: true`, or remove files")
	}
	inputs := c.inputPaths()
	filesNode := mapValue(mapValue(l.root, "debug_symbols"), "files")
	for _, in := range slices.Sorted(maps.Keys(r.Files)) {
		line := lineOf(l.root, "debug_symbols.files")
		if k := mapKey(filesNode, in); k != nil {
			line = k.Line
		}
		dbg := r.Files[in]
		switch {
		case in == "" || dbg == "":
			l.failAt(line, "debug_symbols.files: give each input's path and its debug file's path, e.g. build/x86_64/gw: build/x86_64/gw.debug")
			continue
		case strings.ContainsAny(in+dbg, "\n\r\x00"):
			l.failAt(line, "debug_symbols.files: a path holds a line break or NUL")
			continue
		}
		abs := c.abs(in)
		if !inputs[abs] {
			l.failAt(line, "debug_symbols.files: %s is not an input of this release: a key must be a path given under inputs: or targets[].inputs, written the same way (it names the binary whose debug file this is)", in)
			continue
		}
		d.Files[abs] = c.abs(dbg)
		c.lines["debug_symbols.files:"+abs] = line
	}
	c.DebugSymbols = d
}

// inputPaths is the set of every input path the configuration names:
// inputs: and each target's inputs.
func (c *Config) inputPaths() map[string]bool {
	out := map[string]bool{}
	for _, p := range c.Inputs {
		out[p] = true
	}
	for _, t := range c.Targets {
		for _, p := range t.Inputs {
			out[p] = true
		}
	}
	return out
}

// Split reports whether the build splits its inputs' debug symbols.
func (c *Config) Split() bool { return c.DebugSymbols != nil && c.DebugSymbols.Split }

// DebugFileFor is the separate debug file debug_symbols.files gives for
// input (an absolute path), and the key naming it for Where.
func (c *Config) DebugFileFor(input string) (path, key string, ok bool) {
	if c.DebugSymbols == nil {
		return "", "", false
	}
	p, ok := c.DebugSymbols.Files[input]
	return p, "debug_symbols.files:" + input, ok
}
