package config

import (
	"maps"
	"slices"
)

type rawInputs struct {
	Inputs map[string]string `yaml:"inputs"`
}

// inputs loads inputs: (target triple -> binary, at least one). It adds
// Config.Inputs (paths made absolute) and the line of every triple given.
func (l *loader) inputs() {
	r, c := l.r.Inputs, l.c
	if len(r) == 0 {
		l.fail("inputs", "inputs is empty: map each target triple to its binary, e.g. x86_64-unknown-linux-gnu: build/openshell-gateway")
	}
	for _, triple := range slices.Sorted(maps.Keys(r)) {
		p := r[triple]
		if !TripleRE.MatchString(triple) {
			l.fail("inputs."+triple, "unknown target triple %q: use x86_64 or aarch64 with -unknown-linux-gnu or -unknown-linux-musl", triple)
			continue
		}
		if p == "" {
			l.fail("inputs."+triple, "no path given for %s", triple)
			continue
		}
		c.Inputs[triple] = c.abs(p)
	}
	for t := range r {
		c.lines["inputs."+t] = lineOf(l.root, "inputs."+t)
	}
}
