package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"relpack/pkg/config"
	"relpack/pkg/docs"
	"relpack/pkg/release"
	"relpack/pkg/repo"
	"relpack/pkg/sign"
)

func newRepoCmd() *cobra.Command {
	var (
		cfgPath, out, url string
		suites            []string
		asJSON, rotate    bool
		allowUnsigned     bool
	)
	cmd := &cobra.Command{
		Use:   "repo DIST... --out REPO --url URL [-c packaging.yaml] [--suite ID=NAME]... [--rotate-key] [--json]",
		Short: "Add releases to a signed apt and dnf repository tree",
		Long: `repo adds the releases in DIST... (the --out folders of relpack build) to
the repository tree REPO, which any static web server can serve from URL:
an apt repository under deb/ (one suite per deb distro target: bookworm,
jammy, ...; --suite ID=NAME names a target the catalogue does not know) and
an rpm-md repository per rpm target and arch under rpm/, signed with
packaging.yaml's signing: key (passphrase from RELPACK_SIGNING_PASSPHRASE),
with KEY.asc and the .sources, .list and .repo files users install.

Every release is verified first, as relpack verify-release does, with the
public part of the signing: key: SHA256SUMS.asc, every file against
SHA256SUMS and manifest.json, every deb and rpm against its own metadata,
digests and signatures; nothing is written (not even REPO created) unless
every release verifies. An unsigned release is refused unless
--allow-unsigned-release, which the summary and the record then name. Releases accumulate: the indexes list every package of every
release added. A release already in the tree is skipped when identical and
refused when its files differ. A key other than the one that signed REPO is
refused unless --rotate-key. REPO/relpack-repo.json records the tree;
relpack docs --repo REPO renders the set-up instructions from it.
Layout, publishing order and key rotation: docs/repositories.md.

Exit 2 when the flags or packaging.yaml are wrong or the key cannot be
loaded, 1 when a release or the tree is refused (nothing is written).`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, dirs []string) error {
			if len(dirs) == 0 {
				return &exitError{code: 2, msg: "no release folder given: relpack repo DIST... --out REPO --url URL (DIST is the --out folder of relpack build)"}
			}
			if out == "" {
				return &exitError{code: 2, msg: "--out REPO is required: the repository folder to create or add to"}
			}
			if _, err := repo.CheckURL(url); err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			over := map[string]string{}
			for _, s := range suites {
				id, name, ok := strings.Cut(s, "=")
				if !ok || id == "" || name == "" {
					return &exitError{code: 2, msg: fmt.Sprintf("--suite %q: write ID=NAME, e.g. --suite debian12=bookworm", s)}
				}
				if err := repo.CheckSuite(id, name); err != nil {
					return &exitError{code: 2, msg: err.Error()}
				}
				over[id] = name
			}
			cfg, err := config.Load(cfgPath)
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			var key *sign.Key
			if cfg.Signing != nil {
				if key, err = release.SigningKey(cfg); err != nil {
					return &exitError{code: 2, msg: err.Error()}
				}
			}
			// Loading and unlocking the key wrote nothing: a signal until
			// here ended relpack at once. From here the tree may be
			// written: a signal stops the run, which rolls back.
			in := signals(cmd.ErrOrStderr())
			in.Writing(out)
			res, err := repo.Run(repo.Options{Dirs: dirs, Out: out, URL: url, Config: cfg, Key: key, Suites: over, RotateKey: rotate, AllowUnsignedRelease: allowUnsigned, Context: in.Context()})
			in.Reading()
			if err != nil {
				return &exitError{code: in.Code(err, repoExit(err, key)), msg: err.Error()}
			}
			for _, w := range res.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "relpack: warning:", w)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false) // a user ID's <address> as it is
				return enc.Encode(res)
			}
			printRepoResult(w, res, out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&cfgPath, "config", "c", "packaging.yaml", "the release configuration: its signing: key signs the repository")
	f.StringVarP(&out, "out", "o", "", "the repository folder (created, or added to)")
	f.StringVar(&url, "url", "", "the URL the repository folder will be served from (written into the .repo and .sources files)")
	f.StringArrayVar(&suites, "suite", nil, "apt suite of a deb target, ID=NAME (e.g. debian12=bookworm); repeatable")
	f.BoolVar(&rotate, "rotate-key", false, "re-sign a repository signed by another key with packaging.yaml's (docs/repositories.md)")
	f.BoolVar(&asJSON, "json", false, "print what was written as JSON (docs/repositories.md)")
	f.BoolVar(&allowUnsigned, "allow-unsigned-release", false, "add releases built without --sign (no SHA256SUMS.asc to verify); the summary, --json and relpack-repo.json say so")
	return cmd
}

// repoExit is 2 when there is no key (packaging.yaml needs a signing:
// section), else 1: a release or the tree was refused.
func repoExit(_ error, key *sign.Key) int {
	if key == nil {
		return 2
	}
	return 1
}

// repoDocs is relpack docs --repo: the repository set-up docs, written,
// printed or checked like the install docs.
func repoDocs(cmd *cobra.Command, dir, tmplPath, out, check string) error {
	st, err := repo.ReadState(dir)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	if st == nil {
		return &exitError{code: 2, msg: fmt.Sprintf("%s holds no %s: give the --out folder of relpack repo", dir, repo.StateFile)}
	}
	tmpl, err := readTemplate(tmplPath)
	if err != nil {
		return err
	}
	source := filepath.Join(dir, repo.StateFile)
	rendered, err := docs.RepoMarkdown(st, tmpl)
	if err != nil {
		return &exitError{code: 2, msg: fmt.Sprintf("%s: %v", source, err)}
	}
	regen := "relpack docs --repo " + dir
	if tmplPath != "" {
		regen += " --template " + tmplPath
	}
	return emitDocs(cmd, rendered, source, check, regen, out, 0o644)
}

// printRepoResult reports a run for people: what was added (or that
// nothing was), each suite and rpm repository, and where to serve it.
func printRepoResult(w io.Writer, res *repo.Result, out string) {
	refs := func(rs []repo.ReleaseRef) string {
		var v []string
		for _, r := range rs {
			v = append(v, r.Version)
		}
		return strings.Join(v, ", ")
	}
	switch {
	case res.Unchanged:
		fmt.Fprintf(w, "%s: %s already holds %s; nothing written\n", res.Product, out, refs(res.Present))
	case len(res.Added) == 0:
		fmt.Fprintf(w, "%s: rewrote the indexes and set-up files of %s (%s), signed by %s", res.Product, out, refs(res.Releases), res.Key.Fingerprint)
	default:
		fmt.Fprintf(w, "%s: added %s to %s (now %s), signed by %s", res.Product, refs(res.Added), out, refs(res.Releases), res.Key.Fingerprint)
		if res.Rotated {
			fmt.Fprint(w, " (new key)")
		}
		fmt.Fprintln(w)
		if len(res.Present) > 0 {
			fmt.Fprintf(w, "  already present, identical: %s\n", refs(res.Present))
		}
	}
	for _, s := range res.Suites {
		fmt.Fprintf(w, "  apt %-10s %-12s %-14s %3d packages  %s\n", s.Suite, s.Target, strings.Join(s.Arches, ","), s.Packages, s.Sources)
		if d := s.Debug; d != nil {
			fmt.Fprintf(w, "  apt %-10s %-12s %-14s %3d -dbgsym   %s\n", d.Suite, s.Target, strings.Join(d.Arches, ","), d.Packages, d.Sources)
		}
	}
	for _, r := range res.Repos {
		fmt.Fprintf(w, "  dnf %-10s %-12s %-14s %3d packages  %s\n", r.Target, "", strings.Join(r.Arches, ","), r.Packages, r.RepoFile)
		if d := r.Debug; d != nil {
			fmt.Fprintf(w, "  dnf %-10s %-12s %-14s %3d debuginfo %s [%s]\n", r.Target, "", strings.Join(d.Arches, ","), d.Packages, r.RepoFile, d.Repo)
		}
	}
	if len(res.Unsigned) > 0 {
		fmt.Fprintf(w, "  UNSIGNED, not verified (--allow-unsigned-release): %s\n", refs(res.Unsigned))
	}
	fmt.Fprintf(w, "  serve %s at %s; set-up instructions: relpack docs --repo %s\n", out, res.URL, out)
}
