package config

import (
	"strings"
	"testing"
)

// TestDebugSymbols: no section, nil; split alone defaults to refusing an
// input without a build-id; files map inputs (of inputs: and of a
// target) to their debug files, both made absolute.
func TestDebugSymbols(t *testing.T) {
	c, err := Parse("packaging.yaml", "/cfg", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.DebugSymbols != nil || c.Split() {
		t.Fatalf("no debug_symbols section gave %+v", c.DebugSymbols)
	}
	c, err = Parse("packaging.yaml", "/cfg", []byte(good+"debug_symbols: {split: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Split() || c.DebugSymbols.WithoutBuildID != WithoutBuildIDRefuse || len(c.DebugSymbols.Files) != 0 {
		t.Fatalf("split: true gave %+v", c.DebugSymbols)
	}
	yml := strings.Replace(good, "    sonames:\n      libz3.so.4: z3-local\n", "    sonames:\n      libz3.so.4: z3-local\n    inputs:\n      x86_64-unknown-linux-gnu: bin/gw-el8\n", 1) +
		"debug_symbols:\n  split: true\n  without_build_id: unstripped\n  files:\n    bin/gw: bin/gw.debug\n    ../cfg/bin/gw-el8: /dbg/gw-el8.debug\n    /abs/gw-musl: gw-musl.debug\n"
	c, err = Parse("packaging.yaml", "/cfg", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"/cfg/bin/gw": "/cfg/bin/gw.debug", "/cfg/bin/gw-el8": "/dbg/gw-el8.debug", "/abs/gw-musl": "/cfg/gw-musl.debug"}
	if c.DebugSymbols.WithoutBuildID != WithoutBuildIDUnstripped || len(c.DebugSymbols.Files) != len(want) {
		t.Fatalf("got %+v", c.DebugSymbols)
	}
	for in, dbg := range want {
		got, key, ok := c.DebugFileFor(in)
		if !ok || got != dbg {
			t.Errorf("DebugFileFor(%s) = %q, %v; want %s", in, got, ok, dbg)
		}
		if w := c.Where(key); !strings.HasPrefix(w, "packaging.yaml:") || w == "packaging.yaml" {
			t.Errorf("Where(%s) = %s, want a line", key, w)
		}
	}
	if got := c.Given("/cfg/bin/gw.debug"); got != "bin/gw.debug" {
		t.Errorf("Given(debug file) = %s, want bin/gw.debug as written", got)
	}
}

// TestDebugSymbolsRefused: unknown keys and values, files without split,
// a files key that is no input, an empty path: each refused with its line
// and what to write.
func TestDebugSymbolsRefused(t *testing.T) {
	const at = "packaging.yaml:38: " // debug_symbols: starts on line 38
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", "debug_symbols:\n  split: true\n  strip: all\n", "packaging.yaml:40: unknown field strip"},
		{"split not bool", "debug_symbols:\n  split: yes please\n", "packaging.yaml:39: cannot unmarshal"},
		{"unknown policy", "debug_symbols:\n  split: true\n  without_build_id: ignore\n", `packaging.yaml:40: debug_symbols.without_build_id: unknown value "ignore"; use refuse`},
		{"files without split", "debug_symbols:\n  files:\n    bin/gw: bin/gw.debug\n", "packaging.yaml:39: debug_symbols.files gives debug files, but debug_symbols.split is not true"},
		{"files split false", "debug_symbols:\n  split: false\n  files:\n    bin/gw: bin/gw.debug\n", "packaging.yaml:40: debug_symbols.files gives debug files, but debug_symbols.split is not true"},
		{"not an input", "debug_symbols:\n  split: true\n  files:\n    bin/gw: bin/gw.debug\n    build/other: build/other.debug\n", "packaging.yaml:42: debug_symbols.files: build/other is not an input of this release"},
		{"empty debug path", "debug_symbols:\n  split: true\n  files:\n    bin/gw: \"\"\n", "packaging.yaml:41: debug_symbols.files: give each input's path and its debug file's path"},
		{"newline", "debug_symbols:\n  split: true\n  files:\n    bin/gw: \"a\\nb\"\n", "packaging.yaml:41: debug_symbols.files: a path holds a line break"},
		{"files a list", "debug_symbols:\n  split: true\n  files: [bin/gw]\n", "packaging.yaml:40: cannot unmarshal"},
		{"section a list", "debug_symbols: [split]\n", at + "cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("packaging.yaml", "/cfg", []byte(good+tc.yaml))
			if err == nil {
				t.Fatalf("accepted %q", tc.yaml)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}
