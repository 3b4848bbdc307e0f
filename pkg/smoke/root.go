package smoke

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"relpack/internal/regular"
	"relpack/pkg/abi"
)

// maxLdSoConf is the most read of one ld.so.conf file of a root.
const maxLdSoConf = 1 << 20

// maxSymlinks bounds symlink resolution inside a root, like the kernel's
// ELOOP limit.
const maxSymlinks = 40

// resolveIn maps the slash path p (absolute or relative: both mean "from the
// top of root") to a host path inside root, following symbolic links the way
// they resolve once root is "/": an absolute link target such as
// /lib/x86_64-linux-gnu/ld-2.31.so means root + target. ".." never climbs
// above root. The final component is resolved too; the result exists.
func resolveIn(root, p string) (string, error) {
	var done []string // resolved components below root, no links among them
	todo := splitPath(p)
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		host := filepath.Join(root, filepath.Join(done...), c)
		fi, err := os.Lstat(host)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, c)
			continue
		}
		links++
		if links > maxSymlinks {
			return "", &fs.PathError{Op: "resolve", Path: host, Err: errors.New("too many levels of symbolic links")}
		}
		target, err := os.Readlink(host)
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			done = nil
		}
		todo = append(splitPath(target), todo...)
	}
	return filepath.Join(root, filepath.Join(done...)), nil
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

// triple is the Debian multiarch directory name of a machine.
func triple(machine string) string {
	switch machine {
	case "x86_64":
		return "x86_64-linux-gnu"
	case "aarch64":
		return "aarch64-linux-gnu"
	}
	return machine + "-linux-gnu"
}

// loaderCandidates lists, per machine, where a glibc root keeps its dynamic
// loader (after the binary's own PT_INTERP, which is tried first). Entries
// with a '*' are globs ("ld-2.31.so" in Debian before glibc 2.34).
func loaderCandidates(machine string) []string {
	switch machine {
	case "x86_64":
		return []string{
			"lib/x86_64-linux-gnu/ld-*.so",
			"lib64/ld-linux-x86-64.so.2",
			"usr/lib64/ld-linux-x86-64.so.2",
			"lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
			"usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
			"usr/lib/x86_64-linux-gnu/ld-*.so",
		}
	case "aarch64":
		return []string{
			"lib/aarch64-linux-gnu/ld-*.so",
			"lib/ld-linux-aarch64.so.1",
			"usr/lib/ld-linux-aarch64.so.1",
			"lib64/ld-linux-aarch64.so.1",
			"usr/lib64/ld-linux-aarch64.so.1",
			"lib/aarch64-linux-gnu/ld-linux-aarch64.so.1",
			"usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1",
			"usr/lib/aarch64-linux-gnu/ld-*.so",
		}
	}
	return nil
}

// loader is a root's dynamic loader for one machine.
type loader struct {
	Rel  string // as found, relative to the root ("lib/x86_64-linux-gnu/ld-2.31.so")
	Host string // the resolved host path of the file to execute
}

// findLoader finds the glibc loader for machine inside root. interp is the
// binary's PT_INTERP ("" if none): the kernel would use exactly that path in
// a chroot, so it comes first.
func findLoader(root, machine, interp string) (loader, error) {
	var tried []string
	try := func(rel string) (loader, bool) {
		if !slices.Contains(tried, rel) {
			tried = append(tried, rel)
		}
		host, err := resolveIn(root, rel)
		if err != nil {
			return loader{}, false
		}
		if fi, err := os.Stat(host); err != nil || !fi.Mode().IsRegular() {
			return loader{}, false
		}
		f, err := abi.Inspect(host)
		if err != nil || f.Machine != machine {
			return loader{}, false
		}
		return loader{Rel: rel, Host: host}, true
	}
	if interp != "" {
		if l, ok := try(strings.TrimPrefix(interp, "/")); ok {
			return l, nil
		}
	}
	for _, c := range loaderCandidates(machine) {
		if !strings.Contains(c, "*") {
			if l, ok := try(c); ok {
				return l, nil
			}
			continue
		}
		dir, pat := path.Split(c)
		hostDir, err := resolveIn(root, dir)
		if err != nil {
			tried = append(tried, c)
			continue
		}
		matches, _ := filepath.Glob(filepath.Join(hostDir, pat))
		if len(matches) == 0 && !slices.Contains(tried, c) {
			tried = append(tried, c)
		}
		for _, m := range matches {
			if l, ok := try(dir + filepath.Base(m)); ok {
				return l, nil
			}
		}
	}
	return loader{}, &notFoundError{tried: tried}
}

type notFoundError struct{ tried []string }

func (e *notFoundError) Error() string { return "looked for " + strings.Join(e.tried, ", ") }

// rootMachine guesses the machine of a root from the loaders it holds, for
// error messages ("" when it has none that relpack knows).
func rootMachine(root string) (string, string) {
	for _, m := range []string{"x86_64", "aarch64"} {
		if l, err := findLoader(root, m, ""); err == nil {
			return m, l.Rel
		}
	}
	return "", ""
}

// ldSoConfDirs reads root/etc/ld.so.conf (and what it includes, inside
// root) as ldconfig does (elf/ldconfig.c, parse_conf) and returns the
// folders it lists, root-relative, in order, existing ones only: each line
// is one folder (leading and trailing blanks and trailing slashes
// removed), "include PATTERN..." reads the files a glob matches (sorted;
// a relative pattern is taken from the including file's folder), a
// "hwcap" line is ignored, '#' starts a comment. Two names of one folder
// count once, where ldconfig first met it (ldconfigDirs does that).
func ldSoConfDirs(root string) []string {
	var dirs []string
	seen := map[string]bool{}
	var read func(rel string, depth int)
	read = func(rel string, depth int) {
		if depth > 8 || seen[rel] {
			return
		}
		seen[rel] = true
		host, err := resolveIn(root, rel)
		if err != nil {
			return
		}
		// The root is input: a FIFO there would block, /dev/zero never
		// end; ld.so.conf files are a few hundred bytes.
		f, _, err := regular.Open(host)
		if err != nil {
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(io.LimitReader(f, maxLdSoConf))
		sc.Buffer(make([]byte, 0, 4096), maxLdSoConf)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			line = strings.TrimLeft(line, " \t\n\v\f\r")
			if line == "" {
				continue
			}
			if rest, ok := strings.CutPrefix(line, "include"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
				for _, pat := range strings.FieldsFunc(rest, func(r rune) bool { return r == ' ' || r == '\t' }) {
					if !path.IsAbs(pat) {
						pat = path.Join(path.Dir("/"+rel), pat)
					}
					dir, base := path.Split(pat)
					hostDir, err := resolveIn(root, dir)
					if err != nil {
						continue
					}
					matches, _ := filepath.Glob(filepath.Join(hostDir, base))
					for _, m := range matches {
						read(strings.TrimPrefix(path.Join(dir, filepath.Base(m)), "/"), depth+1)
					}
				}
				continue
			}
			if len(line) > 5 && strings.EqualFold(line[:5], "hwcap") && (line[5] == ' ' || line[5] == '\t') {
				continue
			}
			d := strings.TrimRight(strings.TrimRight(line, " \t\n\v\f\r"), "/")
			if !path.IsAbs(d) {
				continue
			}
			if host, err := resolveIn(root, d); err == nil {
				if fi, err := os.Stat(host); err == nil && fi.IsDir() {
					dirs = append(dirs, strings.TrimPrefix(d, "/"))
				}
			}
		}
	}
	read("etc/ld.so.conf", 0)
	return dirs
}

// maxLoaderFile is the most read of a root's loader when looking for its
// default folders (glibc's ld.so is 200 KB to 1.5 MB).
const maxLoaderFile = 64 << 20

// loaderDefaultDirs returns the folders the root's loader searches after
// its cache (step 5 of search.go), as slash paths of the root: the
// SYSTEM_DIRS glibc compiles into ld.so, a run of NUL-ended folder names in
// its read-only data ("/lib64/", "/usr/lib64/" on EL and Fedora; the
// multiarch folders, "/lib/" and "/usr/lib/" on Debian and Ubuntu). The
// second result is false when none of the known runs is in the file: the
// folders are then guessed from the root's layout (multiarch if it has
// lib/<triple>, else lib64 for a 64-bit machine).
func loaderDefaultDirs(root, ldHost, machine, class string) ([]string, bool) {
	t := triple(machine)
	candidates := [][]string{
		{"/lib/" + t, "/usr/lib/" + t, "/lib", "/usr/lib"},
		{"/lib64", "/usr/lib64"},
		{"/lib", "/usr/lib"},
	}
	if data, err := regular.ReadFile(ldHost, maxLoaderFile, "the root's dynamic loader"); err == nil {
		for _, c := range candidates {
			var run []byte
			for _, d := range c {
				run = append(append(run, d...), '/', 0)
			}
			if bytes.Contains(data, append([]byte{0}, run...)) {
				return c, true
			}
		}
	}
	if host, err := resolveIn(root, "lib/"+t); err == nil {
		if fi, err := os.Stat(host); err == nil && fi.IsDir() {
			return candidates[0], false
		}
	}
	if class == "ELF64" {
		return candidates[1], false
	}
	return candidates[2], false
}

// ldconfigBuiltinDirs are the folders ldconfig adds after its ld.so.conf
// ones (add_system_dir of SLIBDIR and LIBDIR, which are the loader's
// default folders): upstream glibc on x86_64 turns a .../lib64 folder into
// .../lib, .../lib64, .../libx32 and on aarch64 into .../lib, .../lib64
// (sysdeps/x86_64/dl-cache.h, sysdeps/unix/sysv/linux/aarch64/dl-cache.h);
// Debian's ldconfig scans its multiarch default folders as they are.
func ldconfigBuiltinDirs(defaults []string, machine string) []string {
	var out []string
	for _, d := range defaults {
		base, ok := strings.CutSuffix(d, "/lib64")
		if !ok {
			out = append(out, d)
			continue
		}
		switch machine {
		case "x86_64":
			out = append(out, base+"/lib", d, base+"/libx32")
		case "aarch64":
			out = append(out, base+"/lib", d)
		default:
			out = append(out, d)
		}
	}
	return out
}

// ldconfigDirs lists the folders ldconfig would build the root's cache
// from, in the order their entries take in it: the ld.so.conf folders,
// then the built-in ones; existing folders only, and a folder reached
// twice (a link, /lib64 to usr/lib64 on EL) only where it came first.
func ldconfigDirs(root string, defaults []string, machine string) []string {
	var out []string
	var seen []os.FileInfo
	for _, d := range append(ldSoConfDirs(root), ldconfigBuiltinDirs(defaults, machine)...) {
		host, err := resolveIn(root, d)
		if err != nil {
			continue
		}
		fi, err := os.Stat(host)
		if err != nil || !fi.IsDir() {
			continue
		}
		if slices.ContainsFunc(seen, func(o os.FileInfo) bool { return os.SameFile(o, fi) }) {
			continue
		}
		seen = append(seen, fi)
		out = append(out, "/"+strings.TrimPrefix(d, "/"))
	}
	return out
}

// systemDirs are the directories a glibc loader searches on its own, after
// --library-path and RUNPATH, on the host: a library found there in loader
// mode came from the build host, not from the root (the view holds every
// library the search found, so only a name it did not look for, such as a
// NEEDED path, can get there).
func systemDirs(machine string) map[string]bool {
	t := triple(machine)
	m := map[string]bool{}
	for _, d := range []string{"/lib", "/usr/lib", "/lib64", "/usr/lib64", "/lib/" + t, "/usr/lib/" + t, "/lib32", "/usr/lib32", "/usr/local/lib"} {
		m[d] = true
	}
	return m
}

// isFullRoot reports whether root looks like a whole root file system (one a
// chroot can start a shell in), not just a folder of libc files.
func isFullRoot(root string) bool {
	host, err := resolveIn(root, "bin/sh")
	if err != nil {
		return false
	}
	fi, err := os.Stat(host)
	return err == nil && fi.Mode().IsRegular()
}
