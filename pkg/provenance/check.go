package provenance

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Roles an Input may have (see Input.Role). A reader of the statement
// knows each; anything else is refused rather than written unexplained.
var roles = map[string]bool{"input": true, "library": true, "file": true, "license": true}

// check says what is wrong with a sorted Release before anything is
// written: every field a statement must hold is there, every digest is a
// sha256 in lower-case hex, no name is listed twice, and no string holds a
// control character or invalid UTF-8 (JSON would escape a newline, but a
// name with one would still mislead whoever prints it; invalid UTF-8 would
// be rewritten to U+FFFD, and the statement would then name another file).
func (r *Release) check() error {
	if err := r.checkSubjects(); err != nil {
		return err
	}
	if err := r.checkParameters(); err != nil {
		return err
	}
	if err := r.checkInputs(); err != nil {
		return err
	}
	return r.checkRun()
}

func (r *Release) checkSubjects() error {
	if len(r.Subjects) == 0 {
		return fmt.Errorf("no subjects: a statement vouches for at least one artifact of the release")
	}
	// Errors name the entry, not its place: the lists are sorted by now,
	// so a number would not be the caller's.
	for i, s := range r.Subjects {
		if err := text("subject name", s.Name, true); err != nil {
			return err
		}
		if s.Name == "." || s.Name == ".." || strings.ContainsAny(s.Name, `/\`) {
			return fmt.Errorf("subject name %q is not a file name inside the release folder", s.Name)
		}
		if err := hexSHA256(fmt.Sprintf("subject %q", s.Name), s.SHA256); err != nil {
			return err
		}
		if i > 0 && r.Subjects[i-1].Name == s.Name {
			return fmt.Errorf("subject %q is listed twice; each artifact is one subject", s.Name)
		}
	}
	return nil
}

func (r *Release) checkParameters() error {
	for _, f := range []struct{ what, v string }{
		{"product", r.Product}, {"version", r.Version}, {"release", r.Release},
		{"configuration file path", r.ConfigFile},
	} {
		if err := text(f.what, f.v, true); err != nil {
			return err
		}
	}
	if err := hexSHA256("configuration file "+r.ConfigFile, r.ConfigSHA256); err != nil {
		return err
	}
	if err := hexSHA256("config_digest", r.ConfigDigest); err != nil {
		return err
	}
	for i, s := range r.Selectors {
		if err := text("selector", s, true); err != nil {
			return err
		}
		if i > 0 && r.Selectors[i-1] == s {
			return fmt.Errorf("selector %q is given twice", s)
		}
	}
	if r.SourceDateEpoch < 0 {
		return fmt.Errorf("SOURCE_DATE_EPOCH %d is before 1970", r.SourceDateEpoch)
	}
	return nil
}

func (r *Release) checkInputs() error {
	for i, in := range r.Inputs {
		if err := text("input path", in.Path, true); err != nil {
			return err
		}
		what := fmt.Sprintf("input %q", in.Path)
		if err := hexSHA256(what, in.SHA256); err != nil {
			return err
		}
		if !roles[in.Role] {
			return fmt.Errorf("%s has role %q; want input, library, file or license", what, in.Role)
		}
		if err := text(what+" triple", in.Triple, false); err != nil {
			return err
		}
		if i == 0 {
			continue
		}
		prev := r.Inputs[i-1]
		if prev.Path == in.Path && prev.SHA256 != in.SHA256 {
			return fmt.Errorf("%s is listed with two digests (%s and %s); a file read once has one", what, prev.SHA256, in.SHA256)
		}
		if compareInputs(prev, in) == 0 {
			return fmt.Errorf("%s (role %s, triple %q) is listed twice", what, in.Role, in.Triple)
		}
	}
	return nil
}

func (r *Release) checkRun() error {
	if err := text("relpack version (tool)", r.Tool, true); err != nil {
		return err
	}
	if err := text("relpack commit", r.ToolCommit, false); err != nil {
		return err
	}
	if err := text("relpack's Go version", r.ToolGo, false); err != nil {
		return err
	}
	if r.BuilderID == "" {
		return nil
	}
	if err := text("builder id", r.BuilderID, true); err != nil {
		return err
	}
	// SLSA's builder.id is a URI: it names the platform that ran the build.
	if u, err := url.Parse(r.BuilderID); err != nil || u.Scheme == "" || strings.ContainsAny(r.BuilderID, " \t") {
		return fmt.Errorf("builder id %q is not a URI; give the CI workflow's URL, e.g. https://github.com/OWNER/REPO/.github/workflows/release.yml@refs/tags/v1.2.3", r.BuilderID)
	}
	return nil
}

// text checks one string field: present when required, valid UTF-8, and
// free of control characters (newlines, escapes, NUL, C1 controls).
func text(what, s string, required bool) error {
	if s == "" {
		if required {
			return fmt.Errorf("%s is empty", what)
		}
		return nil
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q is not valid UTF-8", what, s)
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		return fmt.Errorf("%s %q holds a control character (%U at byte %d); names in a statement are printable text", what, s, []rune(s[i:])[0], i)
	}
	return nil
}

// hexSHA256 checks a sha256 digest: 64 lower-case hex digits, as
// SHA256SUMS and manifest.json write them.
func hexSHA256(what, d string) error {
	if len(d) != 64 || strings.IndexFunc(d, func(c rune) bool { return !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') }) >= 0 {
		return fmt.Errorf("%s: sha256 %q is not 64 lower-case hex digits", what, d)
	}
	return nil
}
