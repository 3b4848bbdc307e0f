package main

// action.yml (the repository's composite GitHub Action) is tested here the
// way a runner uses it: its steps are read from a YAML parse of the file and
// run one by one with the environment and file commands a runner gives, and
// docs/ci.md's workflows are held to its inputs and outputs, by this file's
// own reading and by actionlint.

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"relpack/internal/testdeps"
)

// actionMeta is GitHub's action metadata syntax, as much as a composite
// action may use: decoding with KnownFields refuses any other key.
type actionMeta struct {
	Name        string                  `yaml:"name"`
	Description string                  `yaml:"description"`
	Author      string                  `yaml:"author"`
	Inputs      map[string]actionInput  `yaml:"inputs"`
	Outputs     map[string]actionOutput `yaml:"outputs"`
	Runs        actionRuns              `yaml:"runs"`
	Branding    *actionBranding         `yaml:"branding"`
}

type actionInput struct {
	Description        string `yaml:"description"`
	Required           bool   `yaml:"required"`
	Default            string `yaml:"default"`
	DeprecationMessage string `yaml:"deprecationMessage"`
}

type actionOutput struct {
	Description string `yaml:"description"`
	Value       string `yaml:"value"`
}

type actionRuns struct {
	Using string       `yaml:"using"`
	Steps []actionStep `yaml:"steps"`
}

type actionBranding struct {
	Icon  string `yaml:"icon"`
	Color string `yaml:"color"`
}

// actionStep is a composite action's step.
type actionStep struct {
	ID               string            `yaml:"id"`
	If               string            `yaml:"if"`
	Name             string            `yaml:"name"`
	Uses             string            `yaml:"uses"`
	With             map[string]string `yaml:"with"`
	Run              string            `yaml:"run"`
	Shell            string            `yaml:"shell"`
	Env              map[string]string `yaml:"env"`
	WorkingDirectory string            `yaml:"working-directory"`
	ContinueOnError  bool              `yaml:"continue-on-error"`
}

func actionRoot(t *testing.T) string {
	t.Helper()
	root, err := testdeps.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func loadAction(t *testing.T) *actionMeta {
	t.Helper()
	path := filepath.Join(actionRoot(t), "action.yml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var a actionMeta
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("%s: not GitHub's action metadata syntax: %v", path, err)
	}
	return &a
}

// The expressions the action may use: inputs, its own path and ref, the
// runner's temp folder, earlier steps' outputs. Anything else fails.
var (
	exprRe    = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)
	exprRefRe = regexp.MustCompile(`^(inputs\.[A-Za-z0-9_-]+|github\.action_path|github\.action_ref|runner\.temp|steps\.[A-Za-z0-9_-]+\.outputs\.[A-Za-z0-9_-]+)$`)
	ifRe      = regexp.MustCompile(`^(\S+)\s*(==|!=)\s*'([^']*)'$`)
	pinnedRe  = regexp.MustCompile(`^[A-Za-z0-9-]+/[A-Za-z0-9._-]+@(v[0-9]+\.[0-9]+\.[0-9]+|[0-9a-f]{40})$`)
)

// TestActionMetadata checks action.yml against GitHub's metadata syntax
// for a composite action and the project's hardening rules: no expression
// inside a run: script, only the expression forms the test runner knows,
// every used action pinned to a version, every output from a real step.
func TestActionMetadata(t *testing.T) {
	a := loadAction(t)
	if a.Name == "" || a.Description == "" {
		t.Errorf("action.yml: name and description are required")
	}
	if a.Runs.Using != "composite" || len(a.Runs.Steps) == 0 {
		t.Fatalf("action.yml: runs.using is %q with %d steps, want a composite action", a.Runs.Using, len(a.Runs.Steps))
	}
	if a.Branding != nil && (a.Branding.Icon == "" || a.Branding.Color == "") {
		t.Errorf("action.yml: branding wants an icon and a color")
	}
	for name, in := range a.Inputs {
		if in.Description == "" {
			t.Errorf("action.yml: input %s has no description", name)
		}
	}
	ids := map[string]bool{}
	used := map[string]bool{}
	checkExprs := func(where, s string) {
		for _, m := range exprRe.FindAllStringSubmatch(s, -1) {
			ref := m[1]
			if !exprRefRe.MatchString(ref) {
				t.Errorf("action.yml: %s: expression %q is not one this test can evaluate", where, m[0])
				continue
			}
			if id, ok := strings.CutPrefix(ref, "steps."); ok {
				id, _, _ = strings.Cut(id, ".")
				if !ids[id] {
					t.Errorf("action.yml: %s: %q names no earlier step", where, m[0])
				}
			}
			if in, ok := strings.CutPrefix(ref, "inputs."); ok {
				if _, ok := a.Inputs[in]; !ok {
					t.Errorf("action.yml: %s: %q names no input", where, m[0])
				}
				used[in] = true
			}
		}
	}
	for i, s := range a.Runs.Steps {
		where := fmt.Sprintf("step %d (%s)", i+1, s.ID)
		if (s.Run == "") == (s.Uses == "") {
			t.Errorf("action.yml: %s: a step has run: or uses:, exactly one", where)
		}
		if s.Run != "" {
			if s.Shell != "bash" {
				t.Errorf("action.yml: %s: shell is %q; a composite run step needs one (bash)", where, s.Shell)
			}
			if strings.Contains(s.Run, "${{") {
				t.Errorf("action.yml: %s: an expression inside run: is a script injection; pass it through env:", where)
			}
		}
		if s.Uses != "" && !pinnedRe.MatchString(s.Uses) {
			t.Errorf("action.yml: %s: uses %q is not pinned to vX.Y.Z or a commit SHA", where, s.Uses)
		}
		cond := strings.TrimSpace(s.If)
		if m := exprRe.FindStringSubmatch(cond); m != nil {
			cond = m[1]
		}
		if cond != "" {
			m := ifRe.FindStringSubmatch(cond)
			if m == nil || !exprRefRe.MatchString(m[1]) {
				t.Errorf("action.yml: %s: if: %q is not REF == 'x' or REF != 'x'", where, s.If)
			} else {
				checkExprs(where+" if", "${{ "+m[1]+" }}")
			}
		}
		for k, v := range s.Env {
			checkExprs(where+" env "+k, v)
		}
		for k, v := range s.With {
			checkExprs(where+" with "+k, v)
		}
		checkExprs(where+" working-directory", s.WorkingDirectory)
		if s.ID != "" {
			if ids[s.ID] {
				t.Errorf("action.yml: %s: id %s used twice", where, s.ID)
			}
			ids[s.ID] = true
		}
	}
	for name, o := range a.Outputs {
		if !regexp.MustCompile(`^\$\{\{ steps\.[A-Za-z0-9_-]+\.outputs\.[A-Za-z0-9_-]+ \}\}$`).MatchString(o.Value) {
			t.Errorf("action.yml: output %s: value %q is not one step output", name, o.Value)
		}
		checkExprs("output "+name, o.Value)
	}
	for name := range a.Inputs {
		if !used[name] {
			t.Errorf("action.yml: input %s is declared but no step uses it", name)
		}
	}
	for _, want := range []string{"args", "working-directory"} {
		if _, ok := a.Inputs[want]; !ok {
			t.Errorf("action.yml: no input %s", want)
		}
	}
	for _, want := range []string{"manifest", "relpack", "version"} {
		if _, ok := a.Outputs[want]; !ok {
			t.Errorf("action.yml: no output %s", want)
		}
	}
}

// actionRun is one run of the action, as a runner would do it.
type actionRun struct {
	inputs    map[string]string // given with:, before defaults
	actionRef string            // github.action_ref ("" as for a local `uses: ./`)
	actionDir string            // GITHUB_ACTION_PATH, github.action_path; "" for the module root
	workspace string            // GITHUB_WORKSPACE, the steps' folder
	path      string            // PATH the job starts with
	stopAfter string            // run no run: step after the step of this id (a partial run)
}

// actionResult is what the run left.
type actionResult struct {
	temp    string                       // RUNNER_TEMP
	steps   map[string]map[string]string // step id -> its outputs
	outputs map[string]string            // the action's outputs
	paths   []string                     // every GITHUB_PATH line
	log     string                       // every step's stdout and stderr
	failed  string                       // the id of the step that failed
	// wouldUse is the uses: step (its with: evaluated) the runner would
	// run here: this test cannot, so the run stops there.
	wouldUse *actionStep
}

// runAction runs action.yml's steps: if: evaluated, `uses:` steps whose
// condition is false skipped, run: steps with their shell (as the runner
// starts bash), env: with the expressions substituted, and the runner's
// environment and file commands (GITHUB_OUTPUT, GITHUB_PATH, GITHUB_ENV,
// fresh files per step, read after it).
func runAction(t *testing.T, a *actionMeta, r actionRun) *actionResult {
	t.Helper()
	root := actionRoot(t)
	if r.actionDir != "" {
		root = r.actionDir
	}
	bash := testdeps.Tool(t, "bash")
	res := &actionResult{temp: t.TempDir(), steps: map[string]map[string]string{}}
	inputs := map[string]string{}
	for name, in := range a.Inputs {
		inputs[name] = in.Default
	}
	for k, v := range r.inputs {
		if _, ok := a.Inputs[k]; !ok {
			t.Fatalf("runAction: action.yml has no input %s", k)
		}
		inputs[k] = v
	}
	for name, in := range a.Inputs {
		if in.Required && r.inputs[name] == "" {
			t.Fatalf("runAction: required input %s not given", name)
		}
	}
	eval := func(ref string) string {
		switch {
		case strings.HasPrefix(ref, "inputs."):
			return inputs[strings.TrimPrefix(ref, "inputs.")]
		case ref == "github.action_path":
			return root
		case ref == "github.action_ref":
			return r.actionRef
		case ref == "runner.temp":
			return res.temp
		case strings.HasPrefix(ref, "steps."):
			id, out, _ := strings.Cut(strings.TrimPrefix(ref, "steps."), ".outputs.")
			return res.steps[id][out]
		}
		t.Fatalf("runAction: expression %q is not one the test evaluates", ref)
		return ""
	}
	expand := func(s string) string {
		return exprRe.ReplaceAllStringFunc(s, func(m string) string {
			ref := exprRe.FindStringSubmatch(m)[1]
			if !exprRefRe.MatchString(ref) {
				t.Fatalf("runAction: expression %q is not one the test evaluates", m)
			}
			return eval(ref)
		})
	}
	cond := func(s string) bool {
		s = strings.TrimSpace(s)
		if s == "" {
			return true
		}
		if m := exprRe.FindStringSubmatch(s); m != nil && m[0] == s {
			s = m[1]
		}
		m := ifRe.FindStringSubmatch(s)
		if m == nil || !exprRefRe.MatchString(m[1]) {
			t.Fatalf("runAction: if: %q is not one the test evaluates", s)
		}
		// GitHub compares strings ignoring case.
		eq := strings.EqualFold(eval(m[1]), m[3])
		return eq == (m[2] == "==")
	}

	// The runner's environment: the test's own (HOME, Go's caches), less
	// any GitHub variables, plus what a runner sets for a step.
	var base []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GITHUB_") || strings.HasPrefix(k, "RUNNER_") || strings.HasPrefix(k, "INPUT_") || k == "PATH" {
			continue
		}
		base = append(base, kv)
	}
	base = append(base,
		"CI=true", "GITHUB_ACTIONS=true",
		"GITHUB_ACTION_PATH="+root, "GITHUB_WORKSPACE="+r.workspace,
		"RUNNER_TEMP="+res.temp, "RUNNER_OS=Linux", "RUNNER_ARCH=X64",
		// Offline: every module relpack needs is in the cache the test
		// binary was built from.
		"GOPROXY=off")
	jobEnv := map[string]string{}
	path := r.path
	var log bytes.Buffer
	defer func() { res.log = log.String() }()
	files := filepath.Join(res.temp, "_runner_file_commands")
	if err := os.MkdirAll(files, 0o755); err != nil {
		t.Fatal(err)
	}
	stopped := false
	for i, s := range a.Runs.Steps {
		if !cond(s.If) {
			fmt.Fprintf(&log, "## step %d (%s): skipped (if: %s)\n", i+1, s.ID, s.If)
			continue
		}
		if s.Uses != "" {
			u := s
			u.With = map[string]string{}
			for k, v := range s.With {
				u.With[k] = expand(v)
			}
			res.wouldUse = &u
			return res
		}
		if stopped {
			return res
		}
		if s.Shell != "bash" {
			t.Fatalf("runAction: step %d: shell %q", i+1, s.Shell)
		}
		out := filepath.Join(files, fmt.Sprintf("set_output_%d", i))
		pathFile := filepath.Join(files, fmt.Sprintf("add_path_%d", i))
		envFile := filepath.Join(files, fmt.Sprintf("set_env_%d", i))
		script := filepath.Join(res.temp, fmt.Sprintf("step-%d.sh", i))
		for _, f := range []string{out, pathFile, envFile} {
			if err := os.WriteFile(f, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(script, []byte(s.Run), 0o644); err != nil {
			t.Fatal(err)
		}
		env := slices.Clone(base)
		env = append(env, "PATH="+path, "GITHUB_OUTPUT="+out, "GITHUB_PATH="+pathFile, "GITHUB_ENV="+envFile)
		for k, v := range jobEnv {
			env = append(env, k+"="+v)
		}
		for k, v := range s.Env {
			env = append(env, k+"="+expand(v))
		}
		// How the runner starts `shell: bash`.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		cmd := exec.CommandContext(ctx, bash, "--noprofile", "--norc", "-eo", "pipefail", script)
		cmd.Dir = r.workspace
		if s.WorkingDirectory != "" {
			cmd.Dir = filepath.Join(r.workspace, expand(s.WorkingDirectory))
		}
		cmd.Env = env
		fmt.Fprintf(&log, "## step %d (%s)\n", i+1, s.ID)
		cmd.Stdout, cmd.Stderr = &log, &log
		err := cmd.Run()
		cancel()
		outputs, perr := readFileCommand(out)
		if perr != nil {
			t.Fatalf("step %d (%s): GITHUB_OUTPUT: %v", i+1, s.ID, perr)
		}
		if s.ID != "" {
			res.steps[s.ID] = outputs
		}
		envs, perr := readFileCommand(envFile)
		if perr != nil {
			t.Fatalf("step %d (%s): GITHUB_ENV: %v", i+1, s.ID, perr)
		}
		for k, v := range envs {
			jobEnv[k] = v
		}
		b, _ := os.ReadFile(pathFile)
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if line != "" {
				res.paths = append(res.paths, line)
				path = line + string(os.PathListSeparator) + path
			}
		}
		if err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("step %d (%s): %v", i+1, s.ID, err)
			}
			res.failed = s.ID
			return res
		}
		stopped = s.ID != "" && s.ID == r.stopAfter
	}
	res.outputs = map[string]string{}
	for name, o := range a.Outputs {
		res.outputs[name] = expand(o.Value)
	}
	return res
}

// readFileCommand reads a GITHUB_OUTPUT or GITHUB_ENV file as the runner
// does: NAME=VALUE lines and NAME<<DELIMITER blocks; anything else is an
// error (the runner fails the step on it).
func readFileCommand(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vals := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" {
			continue
		}
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var body []string
			closed := false
			for sc.Scan() {
				n++
				if sc.Text() == delim {
					closed = true
					break
				}
				body = append(body, sc.Text())
			}
			if !closed || name == "" || delim == "" {
				return nil, fmt.Errorf("line %d: %q: unterminated or malformed NAME<<DELIMITER block", n, line)
			}
			vals[name] = strings.Join(body, "\n")
			continue
		}
		name, val, ok := strings.Cut(line, "=")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("line %d: %q is not NAME=VALUE", n, line)
		}
		vals[name] = val
	}
	return vals, sc.Err()
}

// demoWorkspace is a workspace whose folder job/ holds testdata (a link
// to the repository's), as a checkout would.
func demoWorkspace(t *testing.T) string {
	t.Helper()
	ws, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(ws, "job"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(actionRoot(t), "testdata"), filepath.Join(ws, "job", "testdata")); err != nil {
		t.Fatal(err)
	}
	return ws
}

// TestActionBuildsAndRuns runs action.yml as a runner with Go on PATH
// would: setup-go is skipped, relpack is built from the action's checkout
// with the ref stamped, put on PATH, and runs the demo build; the outputs
// name the binary, its version and the manifest the build wrote.
func TestActionBuildsAndRuns(t *testing.T) {
	a := loadAction(t)
	goBin := filepath.Dir(testdeps.Tool(t, "go"))
	ws := demoWorkspace(t)
	const ref = "v1.2.3-action.1"
	res := runAction(t, a, actionRun{
		inputs: map[string]string{
			"args":              "build -q -c testdata/demo/packaging.yaml --version 0.1.0 --out out/dist",
			"working-directory": "job",
		},
		actionRef: ref,
		workspace: ws,
		path:      goBin + ":/usr/bin:/bin",
	})
	if res.wouldUse != nil {
		t.Fatalf("with Go %s on PATH the action would run %s:\n%s", goBin, res.wouldUse.Uses, res.log)
	}
	if res.failed != "" {
		t.Fatalf("step %s failed:\n%s", res.failed, res.log)
	}
	if got := res.steps["go"]["ok"]; got != "true" {
		t.Errorf("step go: ok=%q, want true (this machine's Go is go.mod's)", got)
	}
	bin := filepath.Join(res.temp, "relpack", "relpack")
	if res.outputs["relpack"] != bin {
		t.Errorf("output relpack = %q, want %q", res.outputs["relpack"], bin)
	}
	if !slices.Contains(res.paths, filepath.Dir(bin)) {
		t.Errorf("GITHUB_PATH got %q, want %s", res.paths, filepath.Dir(bin))
	}
	out, err := exec.Command(bin, "version").Output()
	if f := strings.Fields(string(out)); err != nil || len(f) < 2 || f[0] != "relpack" || f[1] != ref {
		t.Errorf("%s version: %q, %v; want relpack %s", bin, out, err, ref)
	}
	if res.outputs["version"] != ref {
		t.Errorf("output version = %q, want %s", res.outputs["version"], ref)
	}
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	// (-trimpath leaves -ldflags out of the build info: the version
	// printed above is the check of the stamp.)
	if settings["-trimpath"] != "true" || settings["CGO_ENABLED"] != "0" {
		t.Errorf("%s was built with %v; want -trimpath, CGO_ENABLED=0", bin, settings)
	}
	manifest := filepath.Join(ws, "job", "out", "dist", "manifest.json")
	if res.outputs["manifest"] != manifest {
		t.Errorf("output manifest = %q, want %q", res.outputs["manifest"], manifest)
	}
	b, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatalf("the build wrote no manifest: %v\n%s", err, res.log)
	}
	var m struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Version != "0.1.0" {
		t.Errorf("%s: version %q, %v; want 0.1.0", manifest, m.Version, err)
	}
}

// TestActionRefFromCheckout: when github.action_ref is empty (as it can
// be inside a composite action), the version is the ref of the runner's
// checkout folder, _actions/OWNER/REPO/REF; a hostile folder name is
// refused like a hostile ref.
func TestActionRefFromCheckout(t *testing.T) {
	a := loadAction(t)
	goBin := filepath.Dir(testdeps.Tool(t, "go"))
	for _, c := range []struct{ name, ref, want, failed string }{
		{"tag", "v9.8.7", "v9.8.7", ""},
		{"branch with a slash", "release/v9", "release/v9", ""},
		{"hostile", "v1 -X main.version=evil", "", "build"},
	} {
		t.Run(c.name, func(t *testing.T) {
			actions := filepath.Join(t.TempDir(), "_work", "_actions", "OWNER", "relpack", c.ref)
			if err := os.MkdirAll(filepath.Dir(actions), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(actionRoot(t), actions); err != nil {
				t.Fatal(err)
			}
			res := runAction(t, a, actionRun{actionDir: actions, workspace: t.TempDir(), path: goBin + ":/usr/bin:/bin"})
			if res.failed != c.failed || res.wouldUse != nil {
				t.Fatalf("failed step %q, want %q:\n%s", res.failed, c.failed, res.log)
			}
			if c.failed != "" {
				if !strings.Contains(res.log, "is not a tag, branch or commit SHA") {
					t.Errorf("the refusal does not say why:\n%s", res.log)
				}
				return
			}
			if res.outputs["version"] != c.want {
				t.Errorf("output version = %q, want %q\n%s", res.outputs["version"], c.want, res.log)
			}
		})
	}
}

// TestActionManifestOutput: the manifest output follows relpack's own
// reading of --out/-o (the last one given; build's default dist), is empty
// for a command that writes no manifest, and the step fails rather than
// name a manifest that is not there.
func TestActionManifestOutput(t *testing.T) {
	a := loadAction(t)
	goBin := filepath.Dir(testdeps.Tool(t, "go"))
	for _, c := range []struct {
		name, args string
		want       string // relative to ws/job; "" for no output
	}{
		{"default out", "build -q -c testdata/demo/packaging.yaml --version 0.1.0 --only x86_64 --only tarball", "dist"},
		{"-o=", "build -q -c testdata/demo/packaging.yaml --version 0.1.0 --only x86_64 --only tarball --out first -o=second", "second"},
		{"absolute", "build -q -c testdata/demo/packaging.yaml --version 0.1.0 --only x86_64 --only tarball -o WS/abs/./dist", "../abs/dist"},
		{"no manifest", "version", ""},
		{"help", "build --help", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			ws := demoWorkspace(t)
			res := runAction(t, a, actionRun{
				inputs:    map[string]string{"args": strings.ReplaceAll(c.args, "WS/", ws+"/"), "working-directory": "job"},
				workspace: ws,
				path:      goBin + ":/usr/bin:/bin",
			})
			if res.failed != "" || res.wouldUse != nil {
				t.Fatalf("failed at %q:\n%s", res.failed, res.log)
			}
			want := ""
			if c.want != "" {
				want = filepath.Join(ws, "job", c.want, "manifest.json")
				if _, err := os.Stat(want); err != nil {
					t.Errorf("%v", err)
				}
			}
			if res.outputs["manifest"] != want {
				t.Errorf("output manifest = %q, want %q", res.outputs["manifest"], want)
			}
		})
	}
}

// TestActionGoSelection: without Go on PATH, or with one older than
// go.mod's go line, the action runs actions/setup-go with go.mod's
// version (the test stops there: it cannot run a JavaScript action); with
// a newer one it does not.
func TestActionGoSelection(t *testing.T) {
	a := loadAction(t)
	b, err := os.ReadFile(filepath.Join(actionRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(b)
	if goLine == nil {
		t.Fatal("go.mod has no go line")
	}
	want := string(goLine[1])
	for _, c := range []struct {
		name, fakeGo string // fakeGo: what `go env GOVERSION` prints; "" for no go
		setup        bool
	}{
		{"no go", "", true},
		{"older go", "go1.21.0", true},
		{"older by number, newer by letters", "go1.9.0", true},
		{"the same", "go" + want, false},
		{"newer go", "go1.999.0 X:nocoverageredesign", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			bin := t.TempDir()
			for _, tool := range []string{"awk", "sort", "head"} {
				if err := os.Symlink(testdeps.Tool(t, tool), filepath.Join(bin, tool)); err != nil {
					t.Fatal(err)
				}
			}
			if c.fakeGo != "" {
				script := "#!" + testdeps.Tool(t, "bash") + "\n[ \"$*\" = 'env GOVERSION' ] && echo '" + c.fakeGo + "'\n"
				if err := os.WriteFile(filepath.Join(bin, "go"), []byte(script), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			res := runAction(t, a, actionRun{workspace: t.TempDir(), path: bin, stopAfter: "go"})
			if res.failed != "" {
				t.Fatalf("step %s failed:\n%s", res.failed, res.log)
			}
			if got := res.steps["go"]["want"]; got != want {
				t.Errorf("step go: want=%q, go.mod says %s", got, want)
			}
			if !c.setup {
				if res.wouldUse != nil || res.steps["go"]["ok"] != "true" {
					t.Errorf("with %s the action would install Go:\n%s", c.fakeGo, res.log)
				}
				return
			}
			if res.wouldUse == nil {
				t.Fatalf("with %q the action would not install Go:\n%s", c.fakeGo, res.log)
			}
			if !strings.HasPrefix(res.wouldUse.Uses, "actions/setup-go@") || res.wouldUse.With["go-version"] != want || res.wouldUse.With["cache"] != "false" {
				t.Errorf("the action would run %s with %v; want actions/setup-go with go-version %s, cache false", res.wouldUse.Uses, res.wouldUse.With, want)
			}
		})
	}
}

// snapshotTree lists every path under dir with its mode and size.
func snapshotTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, fmt.Sprintf("%s %v %d", rel, fi.Mode(), fi.Size()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestActionHostileInputs: an input is data, never code. A command
// substitution, a quote that would end a string, a backtick or a ;
// in args reach relpack as literal arguments (it refuses them) and run
// nothing; a working-directory or ref of the same kind runs nothing
// either. Nothing appears in the workspace.
func TestActionHostileInputs(t *testing.T) {
	a := loadAction(t)
	goBin := filepath.Dir(testdeps.Tool(t, "go"))
	for _, c := range []struct {
		name   string
		inputs map[string]string
		ref    string
		failed string // the step that must fail
		msg    string // in its output
	}{
		{"args", map[string]string{"args": "version $(touch PWNED1) \"; touch PWNED2; \" `touch PWNED3` ; touch PWNED4 && touch PWNED5 ${IFS}touch"},
			"", "run", `unknown command "$(touch" for "relpack version"`},
		{"args newline", map[string]string{"args": "version\ntouch PWNED1\n$(touch PWNED2)"},
			"", "run", `unknown command "touch" for "relpack version"`},
		{"working-directory", map[string]string{"args": "version", "working-directory": "$(touch PWNED1)`touch PWNED2`"},
			"", "run", "No such file or directory"},
		{"ref", nil, "v1 -X main.version=evil$(touch PWNED1)", "build", "is not a tag, branch or commit SHA"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ws := demoWorkspace(t)
			before := snapshotTree(t, ws)
			res := runAction(t, a, actionRun{inputs: c.inputs, actionRef: c.ref, workspace: ws, path: goBin + ":/usr/bin:/bin"})
			if res.failed != c.failed {
				t.Fatalf("failed step %q, want %q:\n%s", res.failed, c.failed, res.log)
			}
			if !strings.Contains(res.log, c.msg) {
				t.Errorf("the log does not say %q:\n%s", c.msg, res.log)
			}
			if after := snapshotTree(t, ws); !slices.Equal(before, after) {
				t.Errorf("the workspace changed:\nbefore %q\nafter  %q", before, after)
			}
			for _, dir := range []string{ws, filepath.Join(ws, "job"), res.temp, actionRoot(t)} {
				if m, _ := filepath.Glob(filepath.Join(dir, "PWNED*")); len(m) > 0 {
					t.Errorf("a hostile input ran a command: %q", m)
				}
			}
			if c.failed == "build" {
				if _, err := os.Stat(filepath.Join(res.temp, "relpack", "relpack")); err == nil {
					t.Errorf("a refused ref still built relpack")
				}
			}
		})
	}
}

// ciBlock is one ```yaml block of docs/ci.md.
type ciBlock struct {
	line int
	text string
}

func ciBlocks(t *testing.T) []ciBlock {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(actionRoot(t), "docs", "ci.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []ciBlock
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```yaml" {
			continue
		}
		start := i + 1
		for i++; i < len(lines) && lines[i] != "```"; i++ {
		}
		blocks = append(blocks, ciBlock{line: start + 1, text: strings.Join(lines[start:i], "\n") + "\n"})
	}
	if len(blocks) < 3 {
		t.Fatalf("docs/ci.md: %d yaml blocks; the recipes are gone?", len(blocks))
	}
	return blocks
}

// actionUseRe is how docs/ci.md names the action.
var actionUseRe = regexp.MustCompile(`^OWNER/relpack@(.*)$`)

// TestActionDocsRecipes holds docs/ci.md's workflows to action.yml: every
// use of the action gives only its inputs (and the required ones), is
// pinned, and pins the same ref everywhere; every output read is one it
// has; every job that runs relpack gets it from the action first; no
// recipe builds relpack by hand any more.
func TestActionDocsRecipes(t *testing.T) {
	a := loadAction(t)
	refs := map[string]bool{}
	uses := 0
	for _, blk := range ciBlocks(t) {
		where := fmt.Sprintf("docs/ci.md:%d", blk.line)
		for _, bad := range []string{"git clone", "go build", "setup-go", "<relpack repository>", "<pinned tag>"} {
			if strings.Contains(blk.text, bad) {
				t.Errorf("%s: a recipe still has %q: get relpack with the action", where, bad)
			}
		}
		var doc any
		if err := yaml.Unmarshal([]byte(blk.text), &doc); err != nil {
			t.Errorf("%s: not YAML: %v", where, err)
			continue
		}
		for _, steps := range stepLists(doc) {
			relpackIDs := map[string]bool{}
			have := false
			for _, st := range steps {
				step, _ := st.(map[string]any)
				if u, _ := step["uses"].(string); u != "" {
					m := actionUseRe.FindStringSubmatch(u)
					if m == nil {
						continue
					}
					uses++
					have = true
					refs[m[1]] = true
					if !regexp.MustCompile(`^(v[0-9]+\.[0-9]+\.[0-9]+|[0-9a-f]{40})$`).MatchString(m[1]) {
						t.Errorf("%s: %s is not pinned to a release tag or a commit SHA", where, u)
					}
					with, _ := step["with"].(map[string]any)
					for k := range with {
						if _, ok := a.Inputs[k]; !ok {
							t.Errorf("%s: %s with %s: action.yml has no such input", where, u, k)
						}
					}
					for name, in := range a.Inputs {
						if _, ok := with[name]; in.Required && !ok {
							t.Errorf("%s: %s: required input %s not given", where, u, name)
						}
					}
					if id, _ := step["id"].(string); id != "" {
						relpackIDs[id] = true
					}
					continue
				}
				if run, _ := step["run"].(string); regexp.MustCompile(`(^|[\s;&|(])relpack\s|command -v relpack`).MatchString(run) && !have {
					t.Errorf("%s: a step runs relpack before the action put it on PATH: %q", where, run)
				}
			}
			// Outputs read from the action's steps.
			text, _ := yaml.Marshal(steps)
			for _, m := range regexp.MustCompile(`steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)`).FindAllStringSubmatch(string(text), -1) {
				if !relpackIDs[m[1]] {
					continue
				}
				if _, ok := a.Outputs[m[2]]; !ok {
					t.Errorf("%s: %s: action.yml has no output %s", where, m[0], m[2])
				}
			}
		}
	}
	if uses < 4 {
		t.Errorf("docs/ci.md uses the action %d times; every job of every recipe should", uses)
	}
	if len(refs) != 1 {
		t.Errorf("docs/ci.md pins the action to %d refs (%v): every job must run the same relpack", len(refs), refs)
	}
}

// stepLists finds every steps: list in a parsed block (a workflow, a job
// or a bare list of steps).
func stepLists(doc any) [][]any {
	var out [][]any
	switch v := doc.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.([]any); ok && k == "steps" {
				out = append(out, s)
				continue
			}
			out = append(out, stepLists(x)...)
		}
	case []any:
		isSteps := len(v) > 0
		for _, x := range v {
			m, ok := x.(map[string]any)
			if !ok || (m["run"] == nil && m["uses"] == nil) {
				isSteps = false
			}
		}
		if isSteps {
			out = append(out, v)
		}
	}
	return out
}

// ciWorkflows turns docs/ci.md's blocks into whole workflows for
// actionlint, the action at a local path: a job block joins the whole
// workflow before it (the repository job follows the release job), a bare
// list of steps becomes a job of its own.
func ciWorkflows(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	last := ""
	for _, blk := range ciBlocks(t) {
		text := regexp.MustCompile(`(?m)(uses: )OWNER/relpack@\S+`).ReplaceAllString(blk.text, "${1}./.github/actions/relpack")
		first := ""
		for _, l := range strings.Split(text, "\n") {
			if s := strings.TrimSpace(l); s != "" && !strings.HasPrefix(s, "#") {
				first = l
				break
			}
		}
		switch {
		case regexp.MustCompile(`(?m)^jobs:`).MatchString(text):
			last = text
		case regexp.MustCompile(`^  [A-Za-z0-9_-]+:\s*$`).MatchString(first):
			if last == "" {
				t.Fatalf("docs/ci.md:%d: a job with no workflow before it", blk.line)
			}
			text = last + text
		case strings.HasPrefix(first, "      - "):
			text = "on: push\njobs:\n  steps:\n    runs-on: ubuntu-24.04\n    steps:\n" + text
		default:
			t.Fatalf("docs/ci.md:%d: a yaml block that is neither a workflow, a job nor steps", blk.line)
		}
		out[fmt.Sprintf("ci-md-line-%d.yml", blk.line)] = text
	}
	return out
}

// actionStepsWorkflow is action.yml's steps as a reusable workflow's job,
// with the action's inputs as the workflow's: so actionlint checks the
// steps' expressions, the inputs of the actions they use and, through
// shellcheck, their scripts.
func actionStepsWorkflow(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(actionRoot(t), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Inputs map[string]struct {
			Description string `yaml:"description"`
			Required    bool   `yaml:"required"`
			Default     string `yaml:"default"`
		} `yaml:"inputs"`
		Runs struct {
			Steps yaml.Node `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	type wfInput struct {
		Type     string `yaml:"type"`
		Required bool   `yaml:"required"`
		Default  string `yaml:"default"`
	}
	inputs := map[string]wfInput{}
	for k, v := range doc.Inputs {
		inputs[k] = wfInput{Type: "string", Required: v.Required, Default: v.Default}
	}
	wf := map[string]any{
		"on": map[string]any{"workflow_call": map[string]any{"inputs": inputs}},
		"jobs": map[string]any{"action": map[string]any{
			"runs-on": "ubuntu-24.04",
			"steps":   &doc.Runs.Steps,
		}},
	}
	out, err := yaml.Marshal(wf)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestActionlint runs actionlint (with shellcheck) over docs/ci.md's
// workflows, the action checked out at .github/actions/relpack of a
// scratch repository so that actionlint reads its action.yml, and over
// action.yml's steps. A workflow with an unknown input or output of the
// action, or an unquoted variable in a script, must be refused: the check
// is live.
func TestActionlint(t *testing.T) {
	actionlint := testdeps.Tool(t, "actionlint")
	shellcheck := testdeps.Tool(t, "shellcheck")
	repo := t.TempDir()
	for _, d := range []string{".git", ".github/workflows", ".github/actions/relpack"} {
		if err := os.MkdirAll(filepath.Join(repo, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(actionRoot(t), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, ".github/actions/relpack/action.yml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	wfs := ciWorkflows(t)
	wfs["action-steps.yml"] = actionStepsWorkflow(t)
	lint := func(files map[string]string) (string, error) {
		dir := filepath.Join(repo, ".github/workflows")
		old, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range old {
			os.Remove(f)
		}
		var names []string
		for name, text := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			names = append(names, filepath.Join(".github/workflows", name))
		}
		slices.Sort(names)
		cmd := exec.Command(actionlint, append([]string{"-shellcheck", shellcheck, "-no-color"}, names...)...)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := lint(wfs); err != nil {
		for name, text := range wfs {
			t.Logf("%s:\n%s", name, text)
		}
		t.Errorf("actionlint refuses docs/ci.md's workflows or action.yml's steps: %v\n%s", err, out)
	}
	bad := "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - id: r\n        uses: ./.github/actions/relpack\n        with: { argz: version }\n      - run: echo $M\n        env: { M: \"${{ steps.r.outputs.manifests }}\" }\n"
	out, err := lint(map[string]string{"bad.yml": bad})
	if err == nil || !strings.Contains(out, `input "argz" is not defined`) || !strings.Contains(out, `"manifests" is not defined`) || !strings.Contains(out, "SC2086") {
		t.Errorf("actionlint accepts an unknown input and output of the action, or an unquoted variable (%v): the check is dead\n%s", err, out)
	}
}
