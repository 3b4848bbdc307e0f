package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"relpack/internal/rpmtag"
	"relpack/internal/testdeps"
	"relpack/pkg/manifest"
	"relpack/pkg/repo/rpmmd"
	"relpack/pkg/sign"
	"relpack/pkg/sign/signtest"
)

const signedDemo = "../../testdata/demo/packaging-signed.yaml"

// signedRelease builds the signed demo release (make demo's) and an
// unsigned one of the same version, and returns them with the demo key.
func signedRelease(t *testing.T) (signed, unsigned string, key *sign.Key) {
	t.Helper()
	signed = filepath.Join(t.TempDir(), "signed")
	unsigned = filepath.Join(t.TempDir(), "unsigned")
	if _, e, code := cli(t, "build", "-q", "--sign", "-c", signedDemo, "--version", "0.1.0", "--out", signed); code != 0 {
		t.Fatalf("build --sign: exit %d\n%s", code, e)
	}
	if _, e, code := cli(t, "build", "-q", "-c", "../../testdata/demo/packaging.yaml", "--version", "0.1.0", "--out", unsigned); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, e)
	}
	k, err := sign.LoadKey("../../testdata/demo/demo-signing-key.asc")
	if err != nil {
		t.Fatal(err)
	}
	return signed, unsigned, k
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// reseal makes a tampered release self-consistent, as whoever can write
// the folder can: manifest.json's size and sha256 of each artifact and
// SBOM (the provenance statement is left as it is),
// SHA256SUMS, and, with key, a fresh SHA256SUMS.asc (the worst case: the
// sums themselves are signed, so only the package checks can catch it).
// rename maps old artifact names to new ones.
func reseal(t *testing.T, dir string, key *sign.Key, rename map[string]string) {
	t.Helper()
	mp := filepath.Join(dir, "manifest.json")
	b, _ := os.ReadFile(mp)
	var m manifest.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range m.Artifacts {
		a := &m.Artifacts[i]
		if n, ok := rename[a.File]; ok {
			for j := range a.SBOMs { // its SBOMs go with it
				s := &a.SBOMs[j]
				ns := n + strings.TrimPrefix(s.File, a.File)
				os.Rename(filepath.Join(dir, s.File), filepath.Join(dir, ns))
				s.File = ns
			}
			a.File = n
		}
		data, err := os.ReadFile(filepath.Join(dir, a.File))
		if err != nil {
			t.Fatal(err)
		}
		a.Size, a.SHA256 = int64(len(data)), sum(data)
		names = append(names, a.File)
		for j := range a.SBOMs {
			s := &a.SBOMs[j]
			data, err := os.ReadFile(filepath.Join(dir, s.File))
			if err != nil {
				t.Fatal(err)
			}
			s.Size, s.SHA256 = int64(len(data)), sum(data)
			names = append(names, s.File)
		}
	}
	if p := m.Provenance; p != nil {
		names = append(names, p.File)
		if p.Signature != "" {
			names = append(names, p.Signature)
		}
	}
	mb, _ := m.Marshal()
	os.WriteFile(mp, mb, 0o644)
	names = append(names, "manifest.json")
	sort.Strings(names)
	var sums bytes.Buffer
	for _, n := range names {
		data, _ := os.ReadFile(filepath.Join(dir, n))
		fmt.Fprintf(&sums, "%s  %s\n", sum(data), n)
	}
	os.WriteFile(filepath.Join(dir, "SHA256SUMS"), sums.Bytes(), 0o644)
	if key != nil {
		var asc bytes.Buffer
		if err := sign.DetachSignAt(key, bytes.NewReader(sums.Bytes()), &asc, time.Unix(m.SourceDateEpoch, 0)); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "SHA256SUMS.asc"), asc.Bytes(), 0o644)
	}
}

// stripSBOMs removes dir's SBOMs and provenance statement, from the folder
// and from manifest.json, as a release written before relpack wrote them
// holds none (call reseal after it): whoever can write an unsigned
// release's folder can make a replaced artifact pass every check that
// does not read the artifact itself.
func stripSBOMs(t *testing.T, dir string) {
	t.Helper()
	mp := filepath.Join(dir, "manifest.json")
	b, _ := os.ReadFile(mp)
	var m manifest.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for i := range m.Artifacts {
		for _, s := range m.Artifacts[i].SBOMs {
			os.Remove(filepath.Join(dir, s.File))
		}
		m.Artifacts[i].SBOMs = nil
	}
	if p := m.Provenance; p != nil {
		os.Remove(filepath.Join(dir, p.File))
		os.Remove(filepath.Join(dir, p.File+".asc"))
		m.Provenance = nil
	}
	mb, _ := m.Marshal()
	os.WriteFile(mp, mb, 0o644)
}

// arRead and arWrite take a deb apart and put it together again.
type arEntry struct {
	name string
	body []byte
}

func arRead(t *testing.T, p string) []arEntry {
	t.Helper()
	b, _ := os.ReadFile(p)
	b = b[8:]
	var out []arEntry
	for len(b) >= 60 {
		n, _ := strconv.Atoi(strings.TrimSpace(string(b[48:58])))
		out = append(out, arEntry{strings.TrimSpace(string(b[:16])), b[60 : 60+n]})
		b = b[60+n+n%2:]
	}
	return out
}

func arWrite(t *testing.T, p string, es []arEntry) {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString("!<arch>\n")
	for _, e := range es {
		fmt.Fprintf(&buf, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", e.name, 1577836800, 0, 0, "100644", len(e.body))
		buf.Write(e.body)
		if len(e.body)%2 == 1 {
			buf.WriteByte('\n')
		}
	}
	os.WriteFile(p, buf.Bytes(), 0o644)
}

// editControl rewrites ./control of the deb at p with edit.
func editControl(t *testing.T, p string, edit func(string) string) {
	t.Helper()
	es := arRead(t, p)
	zr, err := gzip.NewReader(bytes.NewReader(es[1].body))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if h.Name == "./control" {
			body = []byte(edit(string(body)))
			h.Size = int64(len(body))
		}
		tw.WriteHeader(h)
		tw.Write(body)
	}
	tw.Close()
	zw.Close()
	es[1].body = out.Bytes()
	arWrite(t, p, es)
}

// dataNames replaces the deb's data member with an uncompressed data.tar
// holding the given names.
func dataNames(t *testing.T, p string, names ...string) {
	t.Helper()
	es := arRead(t, p)
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for _, n := range names {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: 4, Typeflag: tar.TypeReg, Format: tar.FormatGNU})
		tw.Write([]byte("evil"))
	}
	tw.Close()
	es[2] = arEntry{"data.tar", out.Bytes()}
	arWrite(t, p, es)
}

// rpmName rewrites the rpm's NAME (same length or shorter, NUL-padded) and,
// with fixDigest, records the changed header's SHA256 in the signature
// header, so only the name and the signatures are wrong.
func rpmName(t *testing.T, p, name string, fixDigest bool) {
	t.Helper()
	b, _ := os.ReadFile(p)
	r, err := rpmmd.ReadRPM(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	e, _ := r.Main.Lookup(rpmtag.Name)
	il := int64(len(r.Main.Entries))
	off := r.Main.Start + 16 + il*16 + int64(e.Offset)
	old := "openshell-gateway"
	if string(b[off:off+int64(len(old))]) != old {
		t.Fatalf("NAME not where the header says")
	}
	copy(b[off:], append([]byte(name), make([]byte, len(old)-len(name))...))
	if fixDigest {
		s, _ := r.Signature.Lookup(rpmtag.SigSHA256)
		soff := r.Signature.Start + 16 + int64(len(r.Signature.Entries))*16 + int64(s.Offset)
		copy(b[soff:], sum(b[r.Main.Start:r.Main.Start+r.Main.Size]))
	}
	os.WriteFile(p, b, 0o644)
}

func artifactNamed(t *testing.T, dir, suffix string) string {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), suffix) {
			return e.Name()
		}
	}
	t.Fatalf("no *%s in %s", suffix, dir)
	return ""
}

// Every kind of tampering is refused by relpack verify-release and by
// relpack repo, naming the file and what differs; repo creates nothing.
func TestVerifyReleaseTampered(t *testing.T) {
	signed, unsigned, key := signedRelease(t)
	pub := filepath.Join(t.TempDir(), "KEY.asc")
	b, _ := os.ReadFile(filepath.Join(signed, "KEY.asc"))
	os.WriteFile(pub, b, 0o644)
	url := "https://packages.example.org/openshell"

	// The genuine release verifies, with --key and (saying so) without.
	stdout, stderr, code := cli(t, "verify-release", signed, "--key", pub)
	if code != 0 || !strings.Contains(stdout, "openshell-gateway 0.1.0 verified: SHA256SUMS.asc signed by "+key.Fingerprint) || !strings.Contains(stdout, "deb _gpgorigin signature") || !strings.Contains(stdout, "rpm signatures") {
		t.Fatalf("genuine release: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = cli(t, "verify-release", signed, "--json")
	var rep struct {
		OK             bool   `json:"ok"`
		Trust          string `json:"trust"`
		OriginVerified bool   `json:"origin_verified"`
		SignedBy       string `json:"signed_by"`
		Files          []struct {
			File, Kind string
			OK         bool
		}
		Problems []struct{ File, Message string }
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 0 || !rep.OK || rep.Trust != "release-key" || rep.OriginVerified || rep.SignedBy != key.Fingerprint || len(rep.Files) != 3*len(artifactsOf(t, signed))+4 {
		t.Fatalf("genuine release, --json without --key: exit %d %v %+v\n%s", code, err, rep, stderr)
	}
	if !strings.Contains(stderr, "NOT who made them") {
		t.Errorf("no warning that the release's own KEY.asc proves no origin:\n%s", stderr)
	}
	out := filepath.Join(t.TempDir(), "repo")
	if _, e, code := cli(t, "repo", signed, "--out", out, "--url", url, "-c", signedDemo); code != 0 {
		t.Fatalf("repo of the genuine release: exit %d\n%s", code, e)
	}

	deb := artifactNamed(t, signed, "~deb12_amd64.deb")
	rpm := artifactNamed(t, signed, ".el8.x86_64.rpm")
	tgz := artifactNamed(t, signed, "-x86_64-unknown-linux-gnu.tar.gz")
	prov := "provenance.intoto.json"
	// signProv signs d's statement with k, as the release's signature of it.
	signProv := func(d string, k *sign.Key) {
		b, _ := os.ReadFile(filepath.Join(d, prov))
		var asc bytes.Buffer
		if err := sign.DetachSignAt(k, bytes.NewReader(b), &asc, time.Unix(1577836800, 0)); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, prov+".asc"), asc.Bytes(), 0o644)
	}
	other := signtest.Generate(t, "ed25519", "")
	otherKey, err := sign.LoadKey(other.SecretFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		tamper func(dir string)
		file   string // the file named
		want   []string
	}{
		{"deb Package", func(d string) {
			editControl(t, filepath.Join(d, deb), func(s string) string {
				return strings.Replace(s, "Package: openshell-gateway", "Package: glibc", 1)
			})
			reseal(t, d, key, nil)
		}, deb, []string{"control says Package: glibc, manifest.json says openshell-gateway", "_gpgorigin is not a good signature"}},
		{"deb epoch", func(d string) {
			editControl(t, filepath.Join(d, deb), func(s string) string {
				return strings.Replace(s, "Version: 0.1.0", "Version: 9:0.1.0", 1)
			})
			reseal(t, d, key, nil)
		}, deb, []string{"control says Version: 9:0.1.0-1~deb12, with the epoch 9: relpack writes no epoch"}},
		{"deb Essential", func(d string) {
			editControl(t, filepath.Join(d, deb), func(s string) string { return s + "Essential: yes\n" })
			reseal(t, d, key, nil)
		}, deb, []string{"control has the field Essential: yes, which relpack never writes"}},
		{"deb ../ name", func(d string) {
			dataNames(t, filepath.Join(d, deb), "./usr/bin/x", "./../../etc/cron.d/evil")
			reseal(t, d, key, nil)
		}, deb, []string{`data.tar holds "./../../etc/cron.d/evil": a ".." part`}},
		{"deb absolute name", func(d string) {
			dataNames(t, filepath.Join(d, deb), "/etc/cron.d/evil")
			reseal(t, d, key, nil)
		}, deb, []string{`data.tar holds "/etc/cron.d/evil": an absolute name`}},
		{"rpm NAME glibc", func(d string) {
			rpmName(t, filepath.Join(d, rpm), "glibc", true)
			reseal(t, d, key, nil)
		}, rpm, []string{"header says NAME glibc, manifest.json says openshell-gateway", "RSA header signature: BAD"}},
		{"rpm BAD header digest", func(d string) {
			rpmName(t, filepath.Join(d, rpm), "glibc", false)
			reseal(t, d, key, nil)
		}, rpm, []string{"header SHA256 digest: BAD"}},
		{"renamed rpm", func(d string) {
			os.Rename(filepath.Join(d, rpm), filepath.Join(d, "glibc-2.28-1.el8.x86_64.rpm"))
			reseal(t, d, key, map[string]string{rpm: "glibc-2.28-1.el8.x86_64.rpm"})
		}, "glibc-2.28-1.el8.x86_64.rpm", []string{"is named glibc-2.28-1.el8.x86_64.rpm, but its header makes it " + rpm}},
		{"unsigned deb in a signed release", func(d string) {
			b, _ := os.ReadFile(filepath.Join(unsigned, deb))
			os.WriteFile(filepath.Join(d, deb), b, 0o644)
			reseal(t, d, key, nil)
		}, deb, []string{"is not signed (no _gpgorigin member), but manifest.json says the release is signed by " + key.Fingerprint}},
		{"unsigned rpm in a signed release", func(d string) {
			b, _ := os.ReadFile(filepath.Join(unsigned, rpm))
			os.WriteFile(filepath.Join(d, rpm), b, 0o644)
			reseal(t, d, key, nil)
		}, rpm, []string{"is not signed", "manifest.json says the release is signed by " + key.Fingerprint}},
		{"SBOM of another artifact", func(d string) {
			for _, suffix := range []string{".spdx.json", ".cdx.json"} {
				b, _ := os.ReadFile(filepath.Join(d, rpm+suffix))
				os.WriteFile(filepath.Join(d, deb+suffix), b, 0o644)
			}
			reseal(t, d, key, nil)
		}, deb + ".spdx.json", []string{"describes " + rpm + ", not its artifact " + deb}},
		{"SBOM of a changed artifact", func(d string) {
			// The tarball's SBOM is the genuine one; the tarball is not.
			f, _ := os.OpenFile(filepath.Join(d, tgz), os.O_WRONLY|os.O_APPEND, 0)
			f.Write([]byte{0})
			f.Close()
			reseal(t, d, key, nil)
		}, tgz + ".cdx.json", []string{"describes " + tgz + " with sha256", "the SBOM is not the artifact's"}},
		{"SBOM missing", func(d string) {
			os.Remove(filepath.Join(d, tgz+".spdx.json"))
		}, tgz + ".spdx.json", []string{"is missing"}},
		{"provenance of another release", func(d string) {
			b, _ := os.ReadFile(filepath.Join(unsigned, prov))
			os.WriteFile(filepath.Join(d, prov), b, 0o644)
			reseal(t, d, key, nil)
		}, prov + ".asc", []string{"is not a good signature of provenance.intoto.json by", "by --key " + pub}},
		{"provenance signed by another key", func(d string) {
			b, _ := os.ReadFile(filepath.Join(unsigned, prov))
			os.WriteFile(filepath.Join(d, prov), b, 0o644)
			signProv(d, otherKey)
			reseal(t, d, key, nil)
		}, prov + ".asc", []string{"is not a good signature of provenance.intoto.json"}},
		{"provenance with other subjects, well signed", func(d string) {
			// The check of the subjects stands on its own: a statement of
			// another release, signed by the release's own key.
			b, _ := os.ReadFile(filepath.Join(unsigned, prov))
			os.WriteFile(filepath.Join(d, prov), b, 0o644)
			signProv(d, key)
			reseal(t, d, key, nil)
		}, prov, []string{"records sha256", "the statement is not this release's"}},
		{"provenance signature missing", func(d string) {
			os.Remove(filepath.Join(d, prov+".asc"))
		}, prov + ".asc", []string{"is missing"}},
		{"SHA256SUMS edited with its manifest", func(d string) {
			editControl(t, filepath.Join(d, deb), func(s string) string { return s + "Essential: yes\n" })
			reseal(t, d, nil, nil) // the old SHA256SUMS.asc stays
		}, "SHA256SUMS.asc", []string{"is not a good signature of SHA256SUMS by", "by --key " + pub}},
		{"SHA256SUMS.asc missing", func(d string) {
			os.Remove(filepath.Join(d, "SHA256SUMS.asc"))
		}, "SHA256SUMS.asc", []string{"is missing, but manifest.json says the release is signed by " + key.Fingerprint}},
		{"SHA256SUMS.asc forged", func(d string) {
			editControl(t, filepath.Join(d, deb), func(s string) string { return s + "Essential: yes\n" })
			reseal(t, d, otherKey, nil)
		}, "SHA256SUMS.asc", []string{"is not a good signature of SHA256SUMS", "made by a key other than this one"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := copyTree(t, signed)
			c.tamper(d)
			before := stateOfTree(t, filepath.Dir(d))
			named := filepath.Join(d, c.file) + ": "
			stdout, stderr, code := cli(t, "verify-release", d, "--key", pub)
			if code != 1 || !strings.Contains(stderr, "is NOT what its signature vouches for") {
				t.Errorf("verify-release: exit %d, want 1\n%s%s", code, stdout, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, named) || !strings.Contains(stderr, w) {
					t.Errorf("verify-release does not say %q of %s:\n%s", w, c.file, stderr)
				}
			}
			out := filepath.Join(t.TempDir(), "repo")
			_, stderr, code = cli(t, "repo", d, "--out", out, "--url", url, "-c", signedDemo)
			if code != 1 || !strings.Contains(stderr, named) || !strings.Contains(stderr, c.want[0]) {
				t.Errorf("repo: exit %d, want 1 naming %s with %q\n%s", code, c.file, c.want[0], stderr)
			}
			if _, err := os.Lstat(out); err == nil {
				t.Errorf("a refused repo run created %s", out)
			}
			sameTree(t, "the release's folder", filepath.Dir(d), before)
		})
	}

	// A signed tree takes an unsigned release only when told, and says so.
	_, stderr, code = cli(t, "verify-release", unsigned)
	if code != 1 || !strings.Contains(stderr, filepath.Join(unsigned, "SHA256SUMS.asc")+": is missing: the release is unsigned") {
		t.Errorf("verify-release of an unsigned release: exit %d\n%s", code, stderr)
	}
	// Could not check: exit 2.
	if _, stderr, code := cli(t, "verify-release", filepath.Join(t.TempDir(), "nosuch")); code != 2 || !strings.Contains(stderr, "nosuch") {
		t.Errorf("no such folder: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := cli(t, "verify-release", signed, "--key", "../../testdata/demo/demo-signing-key.asc"); code != 2 || !strings.Contains(stderr, "holds a private key") {
		t.Errorf("a private key as --key: exit %d\n%s", code, stderr)
	}
}

// The verdicts on rpm digests and signatures are rpm -K's, and on the deb
// signature debsig-verify's.
func TestVerifyReleaseAgreesWithRpmAndDebsig(t *testing.T) {
	testdeps.Tools(t, "rpm", "debsig-verify", "gpg")
	signed, _, key := signedRelease(t)
	pub := filepath.Join(signed, "KEY.asc")
	db := t.TempDir()
	if b, err := exec.Command("rpm", "--dbpath", db, "--import", pub).CombinedOutput(); err != nil {
		t.Fatalf("rpm --import: %v\n%s", err, b)
	}
	rpmOK := func(p string) bool { return exec.Command("rpm", "--dbpath", db, "-K", p).Run() == nil }
	home := signtest.Home(t)
	signtest.GPG(home, nil, "--import", pub)
	bin, _, err := signtest.GPG(home, nil, "--export", key.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	binFile := filepath.Join(t.TempDir(), "key.gpg")
	os.WriteFile(binFile, []byte(bin), 0o644)
	policies, keyrings := signtest.DebsigPolicy(t, key.KeyID, binFile)

	rpm := artifactNamed(t, signed, ".el8.x86_64.rpm")
	deb := artifactNamed(t, signed, "~deb12_amd64.deb")
	if !rpmOK(filepath.Join(signed, rpm)) {
		t.Fatal("rpm -K refuses the genuine rpm")
	}
	if out, code := signtest.DebsigVerify(policies, keyrings, filepath.Join(signed, deb)); code != 0 {
		t.Fatalf("debsig-verify refuses the genuine deb: %d\n%s", code, out)
	}
	for _, c := range []struct {
		name   string
		tamper func(d string)
		file   string
	}{
		{"bad digest", func(d string) { rpmName(t, filepath.Join(d, rpm), "glibc", false) }, rpm},
		{"bad signature", func(d string) { rpmName(t, filepath.Join(d, rpm), "glibc", true) }, rpm},
		{"deb", func(d string) {
			editControl(t, filepath.Join(d, deb), func(s string) string { return s + "Essential: yes\n" })
		}, deb},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := copyTree(t, signed)
			c.tamper(d)
			reseal(t, d, key, nil)
			p := filepath.Join(d, c.file)
			_, stderr, code := cli(t, "verify-release", d, "--key", pub)
			if code != 1 || !strings.Contains(stderr, p+": ") {
				t.Errorf("verify-release: exit %d\n%s", code, stderr)
			}
			if strings.HasSuffix(p, ".rpm") && rpmOK(p) {
				t.Errorf("rpm -K accepts what verify-release refuses")
			}
			if strings.HasSuffix(p, ".deb") {
				if out, code := signtest.DebsigVerify(policies, keyrings, p); code == 0 {
					t.Errorf("debsig-verify accepts what verify-release refuses:\n%s", out)
				}
			}
		})
	}
}

// artifactsOf lists the artifacts dir's manifest.json names.
func artifactsOf(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Artifacts []struct{ File string } }
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range m.Artifacts {
		out = append(out, a.File)
	}
	return out
}
