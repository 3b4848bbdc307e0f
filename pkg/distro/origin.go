package distro

import (
	"regexp"
	"sort"
	"strings"
	"time"
)

// Where a target's libraries come from, how long the target is supported,
// and where each of its facts was read (issue 19). A package that depends
// on a library only installs where the host's enabled repositories ship
// it: Z3 is in EPEL, not in RHEL's own repositories, on EL9, in no
// repository at all on EL8, and in universe, not main, on Ubuntu. The
// catalogue says so per soname, and the build and the install docs act on
// it.

// BaseRepository is the Origin.Repository of a library the distro's own,
// enabled-by-default repositories ship (Debian main, RHEL BaseOS and
// AppStream, Fedora).
const BaseRepository = "base"

// Origin is where the package a soname maps to comes from on a target.
type Origin struct {
	// Repository is BaseRepository or the key of one of the target's
	// Repositories: an add-on repository the user must enable first.
	Repository string `yaml:"repository" json:"repository"`
	// Source says where the fact was read.
	Source string `yaml:"source" json:"source,omitempty"`
}

// AddOn is a repository a host must enable before a package that needs a
// library from it installs (EPEL, Ubuntu's universe).
type AddOn struct {
	// Name is the repository's name for people ("EPEL 9", "universe").
	Name string `yaml:"name" json:"name"`
	// Enable is how a host enables it, quoted in the install docs as a
	// command ("dnf install epel-release").
	Enable string `yaml:"enable" json:"enable"`
	Source string `yaml:"source" json:"source,omitempty"`
}

// Support is a target's support window: the end of its regular (full)
// support and the end of its long-term support or maintenance, after
// which its publisher fixes nothing. Dates are YYYY-MM-DD.
type Support struct {
	Regular string `yaml:"regular" json:"regular,omitempty"`
	End     string `yaml:"end" json:"end,omitempty"`
	// Kind names the support that runs until End ("LTS", "maintenance
	// support"), for messages and install docs.
	Kind string `yaml:"kind" json:"kind,omitempty"`
	// EndedUndated records that support has ended by the publisher's own
	// rule when no source gives the day (Fedora: four weeks after the
	// release two versions on); End is then empty.
	EndedUndated bool   `yaml:"ended" json:"ended,omitempty"`
	Source       string `yaml:"source" json:"source,omitempty"`
}

// Ended reports whether the target's support ended before now.
func (s Support) Ended(now time.Time) bool {
	if s.EndedUndated {
		return true
	}
	end, err := time.Parse(time.DateOnly, s.End)
	if err != nil {
		return false
	}
	// Support lasts through its last day.
	return now.UTC().After(end.Add(24 * time.Hour))
}

// Origin returns where soname's package comes from on d: its recorded
// origin, or the base repositories when d records none (an inline target
// whose author maps a soname says the distro ships it; every catalogue
// entry records each origin with its source, held so by the catalogue's
// tests).
func (d Distro) Origin(soname string) Origin {
	if o, ok := d.Origins[soname]; ok {
		return o
	}
	return Origin{Repository: BaseRepository}
}

// AddOnFor returns the add-on repository soname's package comes from on
// d, or nil when it comes from the distro's base repositories.
func (d Distro) AddOnFor(soname string) *AddOn {
	o := d.Origin(soname)
	if o.Repository == BaseRepository {
		return nil
	}
	a, ok := d.Repositories[o.Repository]
	if !ok {
		return nil
	}
	return &a
}

// NotShippedSource returns, for a library stem ("libz3") no repository
// of d ships, the source that says so; ok is false when d records nothing
// about the stem.
func (d Distro) NotShippedSource(stem string) (source string, ok bool) {
	source, ok = d.NotShipped[stem]
	return source, ok
}

var (
	dateRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	// repoKeyRE: a repository key is referenced from origins.
	repoKeyRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	// enableRE: an enable command is printed in install docs inside a
	// code span and a shell block: no backquote, '$', ';', '|', '&',
	// quotes, '<', '>' or newline.
	enableRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ./+_:=,@-]*$`)
	// stemRE: a library stem as libraries: names it.
	stemRE = regexp.MustCompile(`^lib[A-Za-z0-9_+-][A-Za-z0-9._+-]*$`)
	// sourceRE: sources are quoted in docs and messages: one line of
	// printable text, no backquote.
	sourceTextRE = regexp.MustCompile("^[^\\x00-\\x1f\\x7f`]*$")
)

// validateOrigins checks Origins, Repositories, NotShipped, Support and
// Sources.
func (d Distro) validateOrigins(add func(field, format string, args ...any)) {
	for _, so := range sortedKeys(d.Origins) {
		o := d.Origins[so]
		if _, ok := d.Sonames[so]; !ok {
			add("origins", "origins names %s, which sonames does not map; map it or drop the origin", so)
		}
		if o.Repository != BaseRepository {
			if _, ok := d.Repositories[o.Repository]; !ok {
				add("origins", "origin of %s: repository %q is neither %q nor a key of repositories", so, o.Repository, BaseRepository)
			}
		}
		checkSource(add, "origins", "origin of "+so, o.Source)
	}
	for _, k := range sortedKeys(d.Repositories) {
		r := d.Repositories[k]
		switch {
		case k == BaseRepository || !repoKeyRE.MatchString(k):
			add("repositories", "repository key %q: use lower-case letters, digits, '.', '_' or '-' (e.g. epel, universe), not %q", k, BaseRepository)
		case r.Name == "" || !nameRE.MatchString(r.Name):
			add("repositories", "repository %s: name %q goes into install docs: give its name (e.g. \"EPEL 9\") in letters, digits, spaces and . , ( ) / + - _ :", k, r.Name)
		case r.Enable == "" || len(r.Enable) > 200 || !enableRE.MatchString(r.Enable):
			add("repositories", "repository %s: enable %q is printed as a command in install docs: give one command (e.g. \"dnf install epel-release\") of letters, digits, spaces and . / + _ : = , @ -", k, r.Enable)
		}
		checkSource(add, "repositories", "repository "+k, r.Source)
	}
	for _, stem := range sortedKeys(d.NotShipped) {
		if !stemRE.MatchString(stem) {
			add("not_shipped", "not_shipped: %q is not a library stem (e.g. libz3)", stem)
		}
		for so := range d.Sonames {
			if libStem(so) == stem {
				add("not_shipped", "not_shipped lists %s, but sonames maps %s: a target either ships a library or does not", stem, so)
			}
		}
		checkSource(add, "not_shipped", "not_shipped "+stem, d.NotShipped[stem])
	}
	s := d.Support
	for _, f := range []struct{ name, v string }{{"regular", s.Regular}, {"end", s.End}} {
		if f.v == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, f.v); err != nil || !dateRE.MatchString(f.v) {
			add("support", "support.%s %q is not a date YYYY-MM-DD", f.name, f.v)
		}
	}
	if s.EndedUndated && s.End != "" {
		add("support", "support.ended is for a support whose end has no recorded date; with support.end %s, drop it", s.End)
	}
	if s.Regular != "" && s.End != "" && s.Regular > s.End {
		add("support", "support.regular %s is after support.end %s: end is the last day of any support", s.Regular, s.End)
	}
	if s.Kind != "" && !nameRE.MatchString(s.Kind) {
		add("support", "support.kind %q goes into install docs: letters, digits, spaces and . , ( ) / + - _ : only", s.Kind)
	}
	checkSource(add, "support", "support", s.Source)
	for _, k := range sortedKeys(d.Sources) {
		if !sourcedFields[k] {
			add("sources", "sources names %q, which is not a field it can source (%s)", k, strings.Join(sortedKeys(sourcedFields), ", "))
		}
		checkSource(add, "sources", "sources."+k, d.Sources[k])
	}
}

// sourcedFields are the fields whose source lives in Sources; the others
// (runtime, origins, repositories, not_shipped, support, facts) carry
// their own.
var sourcedFields = map[string]bool{
	"name": true, "glibc": true, "compression": true, "release_suffix": true,
	"suite": true, "arches": true, "libc_package": true, "sonames": true,
}

func checkSource(add func(field, format string, args ...any), field, what, src string) {
	if len(src) > 400 || !sourceTextRE.MatchString(src) {
		add(field, "%s: source %q: one line of at most 400 characters, no backquote", what, src)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// libStem is a soname's name before ".so": libz3 for libz3.so.4.8.
func libStem(soname string) string {
	if i := strings.Index(soname, ".so"); i > 0 {
		return soname[:i]
	}
	return soname
}
