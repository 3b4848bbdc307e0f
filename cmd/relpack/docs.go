package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"relpack/pkg/docs"
	"relpack/pkg/manifest"
)

func newDocsCmd() *cobra.Command {
	var (
		manifestPath, out, tmplPath, check, baseURL, repoDir string
		installer                                            bool
	)
	cmd := &cobra.Command{
		Use:   "docs [--manifest dist/manifest.json | --repo REPO] [-o FILE] [--installer [--base-url URL]] [--template FILE] [--check FILE]",
		Short: "Render install docs (Markdown) or install.sh from manifest.json",
		Long: `docs renders, from a release's manifest.json, the install docs in Markdown
(default) or, with --installer, a POSIX sh installer that picks, downloads,
verifies and installs the artifact that fits the host it runs on.

The templates are embedded (templates/install.md.tmpl, install.sh.tmpl);
--template FILE renders another one with the same data; it can call the same
escapers as the embedded ones: md (Markdown text), code and codecell (code
spans, in a table), codeline (a line in a fenced block), link (<URL>), shq (a
sh word), sq (inside '...'), shcomment (a # comment). Output is byte-stable.

--check FILE compares FILE with what would be rendered: exit 0 when they are
identical, exit 1 with a unified diff when FILE no longer matches the
manifest (CI: relpack docs --manifest dist/manifest.json --check docs/INSTALL.md).

--repo REPO renders instead the set-up of the apt and dnf repositories that
relpack repo wrote into REPO, from REPO/relpack-repo.json: per distro, the
commands that fetch KEY.asc and the .sources or .repo file and install the
product, and the files' contents (templates/repo.md.tmpl).

The manifest is treated as untrusted input: an empty one, or one with a field
off its grammar (a file name that is not a plain base name, a bad sha256, a
line break in free text, ...), is refused with the field named, and nothing
is written. Every value is also escaped for Markdown or quoted for sh where
it is rendered.

Exit 2 when the manifest is invalid or the manifest or a template cannot be read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if check != "" && out != "" {
				return &exitError{code: 2, msg: "--check and -o exclude each other: --check compares, -o writes"}
			}
			if baseURL != "" && !installer {
				return &exitError{code: 2, msg: "--base-url is the installer's default download location: use it with --installer"}
			}
			if repoDir != "" {
				if installer || cmd.Flags().Changed("manifest") {
					return &exitError{code: 2, msg: "--repo renders the repository set-up from REPO/relpack-repo.json: it takes no --manifest or --installer"}
				}
				return repoDocs(cmd, repoDir, tmplPath, out, check)
			}
			// The manifest is input others can change: ReadValid refuses
			// an empty one and any field off its grammar, naming the
			// field, before anything is rendered or written.
			m, err := manifest.ReadValid(manifestPath)
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			tmpl, err := readTemplate(tmplPath)
			if err != nil {
				return err
			}
			var rendered []byte
			if installer {
				rendered, err = docs.InstallerFrom(m, baseURL, tmpl)
			} else {
				rendered, err = docs.Markdown(m, tmpl)
			}
			if err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("%s: %v", manifestPath, err)}
			}
			regen := "relpack docs --manifest " + manifestPath
			if installer {
				regen += " --installer"
				if baseURL != "" {
					regen += " --base-url " + baseURL
				}
			}
			if tmplPath != "" {
				regen += " --template " + tmplPath
			}
			mode := os.FileMode(0o644)
			if installer {
				mode = 0o755
			}
			return emitDocs(cmd, rendered, manifestPath, check, regen, out, mode)
		},
	}
	f := cmd.Flags()
	f.StringVar(&manifestPath, "manifest", "dist/manifest.json", "the release's manifest.json")
	f.StringVarP(&out, "output", "o", "", "write to FILE instead of standard output")
	f.BoolVar(&installer, "installer", false, "render install.sh instead of the Markdown docs")
	f.StringVar(&baseURL, "base-url", "", "installer: default download location of the artifacts (RELPACK_BASE_URL or --base-url override it at run time)")
	f.StringVar(&tmplPath, "template", "", "render this text/template file instead of the embedded one")
	f.StringVar(&check, "check", "", "compare FILE with the rendered output: exit 1 and print a diff when they differ")
	f.StringVar(&repoDir, "repo", "", "render the set-up of the repository tree relpack repo wrote into REPO (from REPO/relpack-repo.json)")
	return cmd
}

// readTemplate reads --template's file; "" gives "" (the embedded template).
func readTemplate(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	s, err := docs.ReadTemplate(path)
	if err != nil {
		return "", &exitError{code: 2, msg: fmt.Sprintf("--template %s: %v", path, err)}
	}
	return s, nil
}

// emitDocs does with docs rendered from source what relpack docs' flags
// ask, for the install docs and the repository set-up alike: with check,
// compares them with that file (exit 1 and a diff when they differ, naming
// regen, the command that makes the file again); else writes them to out
// with mode, or to standard output when out is "" or "-".
func emitDocs(cmd *cobra.Command, rendered []byte, source, check, regen, out string, mode os.FileMode) error {
	if check != "" {
		diff, err := docs.Check(check, source, rendered)
		if err != nil {
			return &exitError{code: 2, msg: err.Error()}
		}
		if diff == "" {
			return nil
		}
		fmt.Fprint(cmd.OutOrStdout(), diff)
		return &exitError{code: 1, msg: fmt.Sprintf("%s does not match %s; regenerate it: %s -o %s", check, source, regen, check)}
	}
	if out == "" || out == "-" {
		_, err := cmd.OutOrStdout().Write(rendered)
		return err
	}
	in := signals(cmd.ErrOrStderr())
	in.Writing(out)
	err := writeDocsFile(in.Context(), out, rendered, mode)
	in.Reading()
	if err != nil {
		return &exitError{code: in.Code(err, 2), msg: err.Error()}
	}
	return nil
}

// writeDocsFile writes data to path through a temporary file in the same
// folder, so a reader never sees half a file.
// A signal while it writes (ctx) leaves path as it was.
func writeDocsFile(ctx context.Context, path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("%s: cannot write: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: cannot write: %w", path, err)
	}
	return nil
}
