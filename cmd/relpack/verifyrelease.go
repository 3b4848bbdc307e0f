package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"relpack/pkg/manifest"
	"relpack/pkg/releaseverify"
)

func newVerifyReleaseCmd() *cobra.Command {
	var (
		keyPath string
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "verify-release DIR [--key KEY.asc] [--json]",
		Short: "Check a downloaded release against its signature, before trusting it",
		Long: `verify-release checks the release folder DIR (what relpack build --out
wrote, or its downloaded copy) the way relpack repo and merge do before
they sign anything: SHA256SUMS.asc is a good signature of SHA256SUMS by
--key; every file SHA256SUMS lists is a regular file in DIR with that
sha256 and the size manifest.json records; every deb's ar members,
control file (package, version, architecture, no field relpack never
writes, such as Essential) and data.tar names (no absolute or ".." names),
and its _gpgorigin signature; every rpm's header and payload digests and
signatures (as rpm -K checks them) and its name, version, release, epoch
and arch.

--key is the publisher's public key (KEY.asc from a source you trust, or
gpg --export --armor FINGERPRINT). Without --key, DIR's own KEY.asc is
used and a warning says so: that proves the files are intact and agree,
not who made them (whoever can replace the files can replace KEY.asc).
An unsigned release is refused: nothing vouches for it.

Exit 0 when the release is exactly what its signature vouches for, 1 when
it is not (every problem is listed, naming the file), 2 when it could not
be checked (no such folder, an unreadable --key, Ctrl-C).
docs/verify-release.md.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &exitError{code: 2, msg: "give one release folder: relpack verify-release DIR [--key KEY.asc] [--json]"}
			}
			o := releaseverify.Options{Dir: args[0], ReleaseKey: keyPath == "",
				UnsignedHint: "a release is verified by its signature; ask its publisher for a release built with relpack build --sign"}
			if keyPath != "" {
				kr, err := releaseverify.ReadPublicKey(keyPath)
				if err != nil {
					return &exitError{code: 2, msg: "--key " + err.Error()}
				}
				o.Keyring, o.KeyName = kr, "--key "+keyPath
			}
			// verify-release writes nothing: root's interrupt (in the
			// state that writes nothing) ends it at once on the first
			// signal, whatever it is reading.
			rep, err := releaseverify.Verify(o)
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			w := cmd.OutOrStdout()
			stderr := cmd.ErrOrStderr()
			for _, x := range rep.Warnings {
				fmt.Fprintln(stderr, "relpack: warning:", x)
			}
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				if err := enc.Encode(struct {
					OK bool `json:"ok"`
					*releaseverify.Report
				}{rep.OK(), rep}); err != nil {
					return err
				}
			}
			if !rep.OK() {
				for _, p := range rep.Problems {
					fmt.Fprintln(stderr, "relpack:", p)
				}
				return &exitError{code: 1, msg: fmt.Sprintf("%s is NOT what its signature vouches for (%s above): do not install or publish it", args[0], releaseverify.Count(len(rep.Problems)))}
			}
			if asJSON {
				return nil
			}
			pkgs := 0
			for _, f := range rep.Files {
				if isPackageKind(f.Kind) {
					pkgs++
				}
			}
			by := rep.SignedBy
			if rep.UserID != "" {
				by += " (" + rep.UserID + ")"
			}
			how := "with --key " + keyPath
			if rep.Trust == releaseverify.TrustReleaseKey {
				how = "with the release's own KEY.asc: intact, origin NOT checked"
			}
			fmt.Fprintf(w, "%s: %s %s verified: SHA256SUMS.asc signed by %s, %s\n", args[0], rep.Product, rep.Version, by, how)
			fmt.Fprintf(w, "  %d files match SHA256SUMS and manifest.json; %d packages checked (%s)\n", len(rep.Files), pkgs, strings.Join(checkNames(rep), ", "))
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "the publisher's public key (armoured or binary) the release must be signed by; without it, DIR/KEY.asc (integrity only, not origin)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON (docs/verify-release.md)")
	return cmd
}

// checkNames lists the kinds of checks the report's packages passed.
func checkNames(rep *releaseverify.Report) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range rep.Files {
		if !isPackageKind(f.Kind) {
			continue
		}
		for _, c := range f.Checks {
			if c != "sha256" && !seen[f.Kind+" "+c] {
				seen[f.Kind+" "+c] = true
				out = append(out, f.Kind+" "+c)
			}
		}
	}
	return out
}

// isPackageKind: a deb or rpm, or a debug package (ddeb, debuginfo rpm),
// each checked against its own metadata and signatures.
func isPackageKind(kind string) bool {
	f := manifest.Format(kind)
	return f == "deb" || f == "rpm"
}
