package smoke

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"relpack/internal/regular"
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
// root's own steps 4 and 5: the root's /etc/ld.so.cache read as its loader
// reads it (ldcache.go: the first entry of the name with the machine's
// flags; that one path, and if it is not there, on to step 5), then the
// default folders compiled into the root's loader (loaderDefaultDirs).
// One soname in two folders is thus the copy the cache lists first, which
// is ldconfig's folder order: its ld.so.conf folders, then its built-in
// ones (on EL8 the ld.so.conf.d folders, /usr/lib, then /usr/lib64). A
// root with no cache file stands for one where ldconfig has run: its
// folders are searched in ldconfig's order (ldconfigDirs), then the
// default ones. $ORIGIN is expanded from where each object really is,
// and absolute and relative RUNPATH/RPATH folders are taken inside the
// root (as in a chroot, whose working directory is its /). Each library it finds is linked under its
// NEEDED name into one folder (the view), and the loader runs with
// --inhibit-cache --library-path VIEW: every name the loader looks for is
// in the view, as the file the root's loader would take, and the loader
// builds the same breadth-first tree from them (same scope order, same
// version checks, LD_BIND_NOW over the same symbols). A name found nowhere
// fails the run as the loader would ("cannot open shared object file"),
// without starting it: the loader would otherwise go on to the host's
// default folders.
//
// A stale cache is followed as the loader follows it (a library ldconfig
// has not seen is not found in an ld.so.conf folder; a listed file that is
// gone sends the search to the default folders), with a note.
//
// Not modelled, each rare in a release binary and covered by chroot mode:
// glibc-hwcaps and legacy hwcaps subfolders and the cache entries for them
// (passed over, with a note), $LIB and $PLATFORM, DF_1_NODEFLIB, and what
// the program dlopen()s later.

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
	root    string
	machine string
	class   string
	// cache is the root's ld.so.cache (nil: none its loader would read),
	// searched for entries with cacheFlags.
	cache      *ldCache
	cacheFlags int32
	signedChar bool
	// rootDirs are the root's folders searched after the cache: the
	// loader's default folders; without a cache file, ldconfig's folders
	// first (ldconfigOrder).
	rootDirs []place
	// ldconfig are the folders ldconfig builds the cache from, in its
	// order: a library found there but not in the cache makes a note.
	ldconfig []place
	objs     []*loaded
	inspect  map[string]*abi.Facts
	t        tree
}

// searchTree finds the libraries the root's loader would load for the
// program at bin (a host path, links resolved), whose facts are given;
// interp is the root's loader (already loaded, so never searched).
func searchTree(root, bin string, facts *abi.Facts, interp loader) (*tree, error) {
	s := &searcher{root: root, machine: facts.Machine, class: facts.Class, inspect: map[string]*abi.Facts{}}
	if err := s.rootFolders(interp); err != nil {
		return nil, err
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
	l, tried := s.inDirs(dirs, name)
	searched = append(searched, tried...)
	if l != nil {
		l.loader = o
		return l, searched
	}
	l, tried = s.inRoot(name)
	searched = append(searched, tried...)
	if l != nil {
		l.loader = o
	}
	return l, searched
}

// inDirs tries name in each folder in turn.
func (s *searcher) inDirs(dirs []place, name string) (*loaded, []string) {
	var searched []string
	for _, d := range dirs {
		if l := s.try(d.join(name)); l != nil {
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

// inRoot is steps 4 and 5: the root's cache, then its loader's default
// folders (or, with no cache file, ldconfig's folders in its order). The
// loader opens the one path the cache gives; if that is not a library of
// the program's machine, it goes on to the default folders.
func (s *searcher) inRoot(name string) (*loaded, []string) {
	var searched []string
	var hit lookupResult
	if s.cache != nil {
		hit = s.cache.lookup(name, s.cacheFlags, s.signedChar)
		if hit.HwcapOnly {
			s.note("the root's /etc/ld.so.cache lists %s only for particular CPU features (hwcaps), which loader mode does not model: such entries were passed over; chroot mode checks them", name)
		}
		if hit.Found {
			if l := s.try(place{inRoot: true, path: hit.Path}); l != nil {
				return l, nil
			}
			s.note("the root's /etc/ld.so.cache gives %s for %s, which is missing or not an %s %s library: the root's loader goes on to its default folders, as loader mode does (a stale cache: run ldconfig in the root)", hit.Path, name, s.machine, s.class)
			searched = append(searched, hit.Path+" (from the root's /etc/ld.so.cache)")
		} else {
			searched = append(searched, "/etc/ld.so.cache (in the root)")
		}
	}
	l, tried := s.inDirs(s.rootDirs, name)
	searched = append(searched, tried...)
	if s.cache != nil && !hit.Found {
		// A stale cache: ldconfig would list a file the loader now
		// cannot find, or finds only after another one.
		for _, d := range s.ldconfig {
			if x := s.try(d.join(name)); x != nil {
				if l == nil || !os.SameFile(x.fi, l.fi) {
					s.note("%s is in %s (in the root), where ldconfig looks, but the root's /etc/ld.so.cache does not list it: the root's loader does not find it there, and neither does loader mode (a stale cache: run ldconfig in the root)", name, d.path)
				}
				break
			}
		}
	}
	return l, searched
}

// rootFolders reads how the root's loader finds a library after the
// RUNPATH: its /etc/ld.so.cache and its default folders. With no cache
// file, the cache ldconfig would build stands for it: its folders in
// ldconfig's order. A cache file the loader would not read (not a regular
// file, not a cache, the wrong byte order) leaves the default folders
// alone, as it does for the loader; one too large to read is an error.
func (s *searcher) rootFolders(interp loader) error {
	defaults, known := loaderDefaultDirs(s.root, interp.Host, s.machine, s.class)
	if !known {
		s.note("the root's loader /%s names none of the default folders relpack knows; they are taken from the root's layout: %s", interp.Rel, strings.Join(defaults, ", "))
	}
	ldc := ldconfigDirs(s.root, defaults, s.machine)
	for _, d := range ldc {
		s.ldconfig = append(s.ldconfig, place{inRoot: true, path: d})
	}
	var defaultDirs []place
	for _, d := range defaults {
		if host, err := resolveIn(s.root, d); err == nil {
			if fi, err := os.Stat(host); err == nil && fi.IsDir() {
				defaultDirs = append(defaultDirs, place{inRoot: true, path: d})
			}
		}
	}
	noCache := func(why string) {
		s.rootDirs = append([]place{}, s.ldconfig...)
		for _, d := range defaultDirs {
			if !slices.Contains(s.rootDirs, d) {
				s.rootDirs = append(s.rootDirs, d)
			}
		}
		s.note("%s: libraries are looked for in the folders ldconfig would build it from, in its order: %s", why, strings.Join(ldc, ", "))
	}
	flags, ok := cacheFlags(s.machine, s.class)
	if !ok {
		noCache(fmt.Sprintf("loader mode does not read ld.so.cache entries for %s %s", s.machine, s.class))
		return nil
	}
	s.cacheFlags, s.signedChar = flags, s.machine == "x86_64"
	host, err := resolveIn(s.root, "/etc/ld.so.cache")
	if errors.Is(err, fs.ErrNotExist) {
		noCache("the root has no /etc/ld.so.cache")
		return nil
	}
	var data []byte
	if err == nil {
		data, err = regular.ReadFile(host, maxLdCache, "the root's ld.so.cache")
	}
	var tooLarge *regular.TooLargeError
	if errors.As(err, &tooLarge) {
		return badf(host, "is larger than %d MiB, more than loader mode reads of a root's ld.so.cache: use --mode chroot", maxLdCache>>20)
	}
	if err == nil {
		s.cache, err = parseLdCache(data)
	}
	s.rootDirs = defaultDirs
	var names []string
	for _, d := range defaultDirs {
		names = append(names, d.path)
	}
	if err != nil {
		s.cache = nil
		s.note("the root's /etc/ld.so.cache is not a cache its loader reads (%v): like the loader, loader mode searches only the default folders (%s); run ldconfig in the root", err, strings.Join(names, ", "))
		return nil
	}
	s.note("libraries are looked up in the root's /etc/ld.so.cache (%d entries), then in its loader's default folders (%s)", len(s.cache.Entries), strings.Join(names, ", "))
	return nil
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
