package components

import (
	"debug/buildinfo"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// notGo is the message of debug/buildinfo's unexported errNotGoExe: the
// file is a valid executable without Go build info. Any other error is a
// Go binary whose build info is damaged, which is reported.
const notGo = "not a Go executable"

// readGo reads Go's build info when the file has some: the toolchain, the
// main module and every dependency with its replacement.
func (c *Components) readGo(r io.ReaderAt, size int64) error {
	info, err := buildinfo.Read(io.NewSectionReader(r, 0, size))
	if err != nil {
		if err.Error() == notGo {
			return nil
		}
		return fmt.Errorf("Go build info: %w", err)
	}
	if err := checkWord("Go toolchain version", info.GoVersion, 128, isToolchainByte); err != nil {
		return fmt.Errorf("Go build info: %w", err)
	}
	if info.Path != "" {
		if err := checkWord("main package path", info.Path, 512, isModulePathByte); err != nil {
			return fmt.Errorf("Go build info: %w", err)
		}
	}
	c.Go = &GoBuild{Toolchain: info.GoVersion, Path: info.Path}
	if info.Main.Path != "" {
		m, err := goModule(&info.Main, true)
		if err != nil {
			return fmt.Errorf("Go build info: main module: %w", err)
		}
		c.List = append(c.List, m)
	}
	for i, dep := range info.Deps {
		m, err := goModule(dep, false)
		if err != nil {
			return fmt.Errorf("Go build info: dependency %d: %w", i, err)
		}
		c.List = append(c.List, m)
	}
	return nil
}

// devel is the version of a main module built without a version (no VCS
// tag, -buildvcs=false): not a version, so its purl names none.
const devel = "(devel)"

// goModule checks and converts one module. Its purl names what was
// compiled: the replacement when there is one, none for a directory.
func goModule(m *debug.Module, main bool) (Component, error) {
	if err := checkModule(m.Path, m.Version, m.Sum); err != nil {
		return Component{}, err
	}
	c := Component{Ecosystem: Golang, Name: m.Path, Version: m.Version, Sum: m.Sum, Main: main}
	if c.Version == devel && !main {
		return Component{}, fmt.Errorf("module %s: version %s outside the main module", m.Path, devel)
	}
	c.Purl = goPurl(m.Path, m.Version)
	if r := m.Replace; r != nil {
		rep, err := goReplacement(m.Path, r)
		if err != nil {
			return Component{}, err
		}
		c.Replace = rep
		c.Purl = ""
		if rep.Version != "" {
			c.Purl = goPurl(rep.Path, rep.Version)
		}
	}
	return c, nil
}

func goReplacement(path string, r *debug.Module) (*Replacement, error) {
	if r.Version == "" || r.Version == devel { // a directory: go records "(devel)"
		if err := checkWord("replacement directory", r.Path, 1024, isDirByte); err != nil {
			return nil, fmt.Errorf("module %s: %w", path, err)
		}
		return &Replacement{Path: r.Path}, nil
	}
	if err := checkModule(r.Path, r.Version, r.Sum); err != nil {
		return nil, fmt.Errorf("module %s: replacement: %w", path, err)
	}
	return &Replacement{Path: r.Path, Version: r.Version, Sum: r.Sum}, nil
}

func checkModule(path, version, sum string) error {
	if err := checkWord("module path", path, 512, isModulePathByte); err != nil {
		return err
	}
	if version != "" {
		if err := checkWord("version", version, 256, isModuleVersionByte); err != nil {
			return fmt.Errorf("module %s: %w", path, err)
		}
	}
	if sum != "" {
		if err := checkWord("sum", sum, 128, isSumByte); err != nil {
			return fmt.Errorf("module %s: %w", path, err)
		}
	}
	return nil
}

// goPurl is pkg:golang/PATH@VERSION, each path element escaped and the
// case kept (module paths are case-sensitive: lowercasing would name
// another module); no version for "(devel)" or none.
func goPurl(path, version string) string {
	elems := strings.Split(path, "/")
	for i, e := range elems {
		elems[i] = purlEscape(e)
	}
	p := "pkg:golang/" + strings.Join(elems, "/")
	if version != "" && version != devel {
		p += "@" + purlEscape(version)
	}
	return p
}
