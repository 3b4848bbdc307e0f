package smoke

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"relpack/pkg/abi"
)

// Loader mode runs the root's ld.so outside a chroot, and there the loader
// cannot search the way it does on the root itself. glibc's ld.so looks
// for each DT_NEEDED name of an object in this order (elf/dl-load.c,
// _dl_map_object):
//
//  1. the DT_RPATH of the object and of the objects that loaded it, up to
//     the program (only while none of them has a DT_RUNPATH);
//  2. LD_LIBRARY_PATH, for which `ld.so --library-path` stands;
//  3. the object's own DT_RUNPATH;
//  4. /etc/ld.so.cache (skipped with --inhibit-cache);
//  5. the default folders compiled into the loader (/lib/<triple>,
//     /usr/lib/<triple>, /lib, /usr/lib on Debian; /lib64, /usr/lib64 on
//     EL).
//
// A name already loaded (as a NEEDED name or a DT_SONAME), or a file
// already loaded under another name, is not searched again, so the first
// object that names a library in breadth-first order decides which file it
// is.
//
// Steps 4 and 5 are the root's folders, but outside a chroot the cache's
// path and the default folders are the host's: no option moves them into
// the root. Putting the root's folders on --library-path (step 2) puts
// them before every RUNPATH (step 3): a tarball's sidecar libz3 then loses
// to a libz3 the root has, and a broken sidecar passes. Putting the RUNPATH
// folders first on --library-path is not right either: they would then
// serve every object's NEEDED, not only the program's, and a library's own
// RUNPATH would still come after the root's folders.
//
// So relpack does the search itself, in the loader's order, with the
// root's folders (its ld.so.conf folders and the default ones, which are
// what ldconfig builds the root's cache from) for steps 4 and 5, $ORIGIN
// expanded from where each object really is, and absolute and relative
// RUNPATH/RPATH folders taken inside the root (as in a chroot, whose
// working directory is its /). Each library it finds is linked under its
// NEEDED name into one folder (the view), and the loader runs with
// --inhibit-cache --library-path VIEW: every name the loader looks for is
// in the view, as the file the root's loader would take, and the loader
// builds the same breadth-first tree from them (same scope order, same
// version checks, LD_BIND_NOW over the same symbols). A name found nowhere
// fails the run as the loader would ("cannot open shared object file"),
// without starting it: the loader would otherwise go on to the host's
// default folders.
//
// Not modelled, each rare in a release binary and covered by chroot mode:
// glibc-hwcaps and legacy hwcaps subfolders, $LIB and $PLATFORM, DF_1_NODEFLIB,
// a stale cache (the real loader may miss a library ldconfig has not seen),
// and what the program dlopen()s later.

// place is a folder or file the loader searches: inside the root (a path
// of the root's own namespace, resolved with resolveIn) or on this host (a
// binary's $ORIGIN outside the root). Paths are kept as the loader builds
// them, not cleaned: "$ORIGIN/../lib" climbs from the folder the program
// is really in, as the kernel resolves it.
type place struct {
	inRoot bool
	path   string
}

func (p place) join(name string) place {
	return place{inRoot: p.inRoot, path: strings.TrimSuffix(p.path, "/") + "/" + name}
}

// dir is the folder of a file's place: its $ORIGIN.
func (p place) dir() place {
	i := strings.LastIndexByte(p.path, '/')
	if i <= 0 {
		return place{inRoot: p.inRoot, path: "/"}
	}
	return place{inRoot: p.inRoot, path: p.path[:i]}
}

// loaded is one object of the tree.
type loaded struct {
	at     place  // where it was found
	host   string // the file on this host
	fi     os.FileInfo
	facts  *abi.Facts
	loader *loaded  // the object whose NEEDED brought it in (nil: the program)
	names  []string // names it answers to: NEEDED names it was found for, its SONAME
}

// tree is the result of the search.
type tree struct {
	// libs are the libraries found, in the loader's breadth-first order,
	// with the NEEDED name each was first found for.
	libs []treeLib
	// missing lists NEEDED names found nowhere, with the object needing them.
	missing []missingLib
	// notes say what the search could not model.
	notes []string
}

type treeLib struct {
	name string // the NEEDED name
	host string // the file the root's loader would open
}

type missingLib struct {
	name, neededBy string
	searched       []string
}

type searcher struct {
	root     string
	machine  string
	class    string
	rootDirs []place
	objs     []*loaded
	inspect  map[string]*abi.Facts
	t        tree
}

// searchTree finds the libraries the root's loader would load for the
// program at bin (a host path, links resolved), whose facts are given;
// interp is the root's loader (already loaded, so never searched).
func searchTree(root, bin string, facts *abi.Facts, interp loader) (*tree, error) {
	s := &searcher{root: root, machine: facts.Machine, class: facts.Class, inspect: map[string]*abi.Facts{}}
	for _, d := range libraryPath(root, facts.Machine) {
		if r, err := filepath.Rel(root, d); err == nil {
			s.rootDirs = append(s.rootDirs, place{inRoot: true, path: "/" + filepath.ToSlash(r)})
		}
	}
	fi, err := os.Stat(bin)
	if err != nil {
		return nil, err
	}
	main := &loaded{at: s.hostOrRoot(bin), host: bin, fi: fi, facts: facts}
	s.objs = append(s.objs, main)
	if ldFacts, err := abi.Inspect(interp.Host); err == nil {
		if ldfi, err := os.Stat(interp.Host); err == nil {
			ld := &loaded{at: place{inRoot: true, path: "/" + interp.Rel}, host: interp.Host, fi: ldfi, facts: ldFacts}
			ld.names = append(ld.names, "/"+interp.Rel, facts.Interpreter)
			if ldFacts.Soname != "" {
				ld.names = append(ld.names, ldFacts.Soname)
			}
			s.objs = append(s.objs, ld)
		}
	}
	queue := []*loaded{main}
	for i := 0; i < len(queue); i++ {
		o := queue[i]
		for _, name := range o.facts.Needed {
			if s.byName(name) != nil {
				continue
			}
			l, searched := s.find(o, name)
			if l == nil {
				s.t.missing = append(s.t.missing, missingLib{name: name, neededBy: s.describe(o), searched: searched})
				continue
			}
			if same := s.byFile(l.fi); same != nil {
				same.names = append(same.names, name)
				continue
			}
			l.names = append(l.names, name)
			if l.facts.Soname != "" {
				l.names = append(l.names, l.facts.Soname)
			}
			s.objs = append(s.objs, l)
			s.t.libs = append(s.t.libs, treeLib{name: name, host: l.host})
			queue = append(queue, l)
		}
	}
	return &s.t, nil
}

func (s *searcher) hostOrRoot(p string) place {
	if p == s.root || strings.HasPrefix(p, s.root+"/") {
		return place{inRoot: true, path: chrootPath(s.root, p)}
	}
	return place{path: p}
}

func (s *searcher) describe(o *loaded) string {
	if o.at.inRoot {
		return o.at.path + " (in the root)"
	}
	return o.at.path
}

func (s *searcher) byName(name string) *loaded {
	for _, o := range s.objs {
		for _, n := range o.names {
			if n == name {
				return o
			}
		}
	}
	return nil
}

func (s *searcher) byFile(fi os.FileInfo) *loaded {
	for _, o := range s.objs {
		if os.SameFile(o.fi, fi) {
			return o
		}
	}
	return nil
}

// find searches for a NEEDED name of o in the loader's order; it returns
// the object (not yet added) or nil and the places searched.
func (s *searcher) find(o *loaded, name string) (*loaded, []string) {
	var searched []string
	if strings.Contains(name, "/") {
		// A path: opened as it is (DSTs expanded), relative to the
		// working directory, which is / in a chroot.
		p, ok := s.expand(o, name)
		if !ok {
			return nil, nil
		}
		s.note("%s names %s as a path: outside a chroot the loader opens that path on this host; chroot mode checks the root's", s.describe(o), name)
		if l := s.try(p); l != nil {
			l.loader = o
			return l, nil
		}
		return nil, []string{p.path}
	}
	var dirs []place
	if len(o.facts.Runpath) == 0 {
		for l := o; l != nil; l = l.loader {
			if len(l.facts.Runpath) == 0 {
				dirs = append(dirs, s.expandAll(l, l.facts.Rpath)...)
			}
		}
	}
	dirs = append(dirs, s.expandAll(o, o.facts.Runpath)...)
	dirs = append(dirs, s.rootDirs...)
	for _, d := range dirs {
		p := d.join(name)
		if l := s.try(p); l != nil {
			l.loader = o
			return l, searched
		}
		if d.inRoot {
			searched = append(searched, d.path+" (in the root)")
		} else {
			searched = append(searched, d.path)
		}
	}
	return nil, searched
}

// try opens p as the loader's open_verify does: a readable ELF file of
// the program's machine and class, or the search goes on.
func (s *searcher) try(p place) *loaded {
	host := p.path
	if p.inRoot {
		var err error
		if host, err = resolveIn(s.root, p.path); err != nil {
			return nil
		}
	}
	fi, err := os.Stat(host)
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	f, ok := s.inspect[host]
	if !ok {
		f, _ = abi.Inspect(host)
		s.inspect[host] = f
	}
	if f == nil || f.Machine != s.machine || f.Class != s.class {
		return nil
	}
	return &loaded{at: p, host: host, fi: fi, facts: f}
}

func (s *searcher) expandAll(o *loaded, elems []string) []place {
	var out []place
	for _, e := range elems {
		if p, ok := s.expand(o, e); ok {
			out = append(out, p)
		}
	}
	return out
}

// expand turns a RUNPATH/RPATH element (or a NEEDED path) of o into a
// place: $ORIGIN is o's folder (on the host or in the root, wherever o
// is); anything else is a path of the root's namespace, a relative one
// from its / (the working directory in a chroot; an empty element is "."
// to the loader). $LIB and $PLATFORM are not modelled: the element is
// dropped, with a note.
func (s *searcher) expand(o *loaded, e string) (place, bool) {
	var b strings.Builder
	origin := false
	for i := 0; i < len(e); i++ {
		if e[i] != '$' {
			b.WriteByte(e[i])
			continue
		}
		name, n := dstAt(e[i+1:])
		switch name {
		case "ORIGIN":
			b.WriteString(o.at.dir().path)
			origin = true
			i += n
		case "LIB", "PLATFORM":
			s.note("%s: the search folder %q uses $%s, which loader mode does not expand: it was left out; chroot mode checks it", s.describe(o), e, name)
			return place{}, false
		default:
			b.WriteByte('$')
		}
	}
	p := b.String()
	if origin {
		return place{inRoot: o.at.inRoot, path: p}, true
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return place{inRoot: true, path: p}, true
}

// dstAt reads a dynamic string token after a '$' as glibc's is_dst does:
// NAME or {NAME}, NAME ending where an identifier character does not
// follow. It returns the name and the bytes it spans ("" if none).
func dstAt(s string) (string, int) {
	for _, name := range []string{"ORIGIN", "PLATFORM", "LIB"} {
		if strings.HasPrefix(s, "{"+name+"}") {
			return name, len(name) + 2
		}
		if strings.HasPrefix(s, name) && (len(s) == len(name) || !isIdent(s[len(name)])) {
			return name, len(name)
		}
	}
	return "", 0
}

func isIdent(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func (s *searcher) note(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	for _, n := range s.t.notes {
		if n == msg {
			return
		}
	}
	s.t.notes = append(s.t.notes, msg)
}
