package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzConfigParse feeds arbitrary packaging.yaml content to Parse. It must
// never panic or hang, and every error must be a *Error or an Errors whose
// every message starts with the file name.
//
//	go test -run XXX -fuzz FuzzConfigParse -fuzztime 60s ./pkg/config/
//
// Seeds: testdata/demo/*.yaml, the repository's packaging.yaml, the good
// config of config_test.go, broken variants of it (below) and
// testdata/fuzz/FuzzConfigParse/.
func FuzzConfigParse(f *testing.F) {
	demos, err := filepath.Glob("../../testdata/demo/*.yaml")
	if err != nil || len(demos) == 0 {
		f.Fatalf("no demo configurations under testdata/demo: %v", err)
	}
	for _, p := range append(demos, "../../packaging.yaml") {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(good))
	for _, s := range fuzzConfigVariants {
		f.Add([]byte(s))
	}
	for _, e := range []struct{ old, new string }{
		{"  - el8\n", "  - el8\n  - el8\n"},    // a target twice
		{"  - debian12\n", "  - [debian12]\n"}, // a sequence as target
		{"  - debian12\n", "  - ~\n"},          // a null target
		{"    sonames:\n", "    inputs:\n      x86_64-unknown-linux-gnu: el8/gw\n    sonames:\n"},
		{"    sonames:\n", "    inputs: [1, 2]\n    sonames:\n"}, // inputs of the wrong type
		{"    sonames:\n", "    inputs:\n      riscv64-unknown-linux-gnu: x\n    sonames:\n"},
		{"    arches: [x86_64]\n", "    arches: x86_64\n"},            // wrong type in a target
		{"  - id: debian11\n", "  - id: &a debian11\n    name: *a\n"}, // anchors and aliases
		{"tarball:\n  files: [LICENSE]\n", "tarball:\n  files: [LICENSE]\n  sidecar:\n    libraries:\n      x86_64: lib/libz3.so.4\n      riscv: x\n    suffix: Z3!\n"},
		{"tarball:\n  files: [LICENSE]\n", "tarball:\n  sidecar: {}\n"},
		{"systemd:\n  unit: openshell-gateway.service\n", "systemd:\n  unit: ../x\n  scope: root\n"},
		{"    dst: /usr/share/doc/openshell-gateway/README\n", "    dst: /usr//share/./x\n    mode: \"9999\"\n  - {}\n"},
		{"floor:\n  glibc: \"2.28\"\n", "floor:\n  glibc: \"2.28\"\n  glibcxx: 3.4.x\n"},
		{"floor:\n  glibc: \"2.28\"\n", "floor: 2.28\n"},
		{"name: openshell-gateway\n", "name: Open Shell\n"},
		{"inputs:\n", "inputs: {}\nx:\n"},
		{"targets:\n", "targets: el8\nz:\n"},
		{"z3: unbundled\n", "z3: unbundled\nz3: bundled\n"}, // a duplicate key
		{"description: |\n", "description: \t|\n"},
	} {
		s := strings.Replace(good, e.old, e.new, 1)
		if s == good {
			f.Fatalf("variant %q does not apply to the good config", e.old)
		}
		f.Add([]byte(s))
	}
	// Truncations of the good config end mid-key, mid-value and mid-list.
	for _, n := range []int{1, 10, 100, 300, 600, len(good) - 40} {
		f.Add([]byte(good[:n]))
	}

	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, data) })
}

// fuzzConfigVariants are hand-written inputs that are not edits of good.
var fuzzConfigVariants = []string{
	"",
	"\n",
	"---\n",
	"---\n...\n---\nname: x\n",
	"~\n",
	"[]\n",
	"- el8\n",
	"name\n",
	"name: [\n",
	"name: \"unterminated\n",
	"\tname: x\n",
	"name: x\nname: y\n",
	"? [a, b]\n: c\n",
	"!!binary AAAA: x\n",
	"name: !!int x\n",
	"targets: [{id: el8, inputs: {x86_64-unknown-linux-gnu: a}}, {}, 1, [], ~]\n",
	"targets:\n  - id: x\n    glibc: \"2\"\n    inputs:\n      not found in type: y\n",
	"not found in type: 1\n",
	"a: &a [*a, *a]\n",
	"a: &a x\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
	strings.Repeat("[", 200) + strings.Repeat("]", 200) + "\n",
	strings.Repeat("- ", 200) + "x\n",
	"inputs: {x86_64-unknown-linux-gnu: }\nfiles: [{src: a, dst: /usr/bin/../x, mode: \"0777777\"}]\n",
	"\xef\xbb\xbfname: x\n",
	"\xff\xfe\x00n\x00a\x00m\x00e\x00:\x00 \x00x\x00\n\x00",
	"name: \"\\uD800\"\n",
}

func checkParse(t *testing.T, data []byte) {
	const name = "packaging.yaml"
	defer watchdog(t, 10*time.Second)()
	start := time.Now()
	c, err := Parse(name, "/cfg", data)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Parse of %d bytes took %v", len(data), d)
	}
	if err == nil {
		if c == nil {
			t.Fatal("Parse returned neither a configuration nor an error")
		}
		if c.File != name || c.Dir != "/cfg" {
			t.Errorf("File, Dir = %q, %q", c.File, c.Dir)
		}
		if len(c.Inputs) == 0 || len(c.Targets) == 0 || c.Floor.Glibc == "" {
			t.Errorf("accepted a configuration without inputs, targets or floor: %+v", c)
		}
		return
	}
	if c != nil {
		t.Errorf("Parse returned a configuration and an error: %v", err)
	}
	var list Errors
	var one *Error
	switch {
	case errors.As(err, &list):
		if len(list) == 0 {
			t.Fatalf("empty Errors returned")
		}
		for _, e := range list {
			checkError(t, name, e)
		}
	case errors.As(err, &one):
		checkError(t, name, one)
	default:
		t.Fatalf("error %v is a %T, not a *config.Error or config.Errors", err, err)
	}
	if !strings.HasPrefix(err.Error(), name) {
		t.Errorf("error %q does not start with %s", err, name)
	}
}

func checkError(t *testing.T, name string, e *Error) {
	t.Helper()
	if e == nil {
		t.Fatal("nil *Error in the errors")
	}
	if e.File != name {
		t.Errorf("error %q names file %q, want %q", e, e.File, name)
	}
	if e.Line < 0 {
		t.Errorf("error %q has line %d", e, e.Line)
	}
	if !strings.HasPrefix(e.Error(), name+":") {
		t.Errorf("error %q does not start with %s:", e, name)
	}
	if strings.TrimSpace(e.Msg) == "" {
		t.Errorf("error %q says nothing", e)
	}
}

// watchdog kills the process when the check has not returned in time: the
// fuzzing engine then records the input as a crasher, where a plain hang
// would only stall the run. Call the returned func when done.
func watchdog(t *testing.T, limit time.Duration) (stop func()) {
	timer := time.AfterFunc(limit, func() {
		panic(fmt.Sprintf("%s: input still running after %v", t.Name(), limit))
	})
	return func() { timer.Stop() }
}
