// Package signtest makes throwaway OpenPGP keys with the real gpg for
// tests of pkg/sign and of the packages that sign (pkg/pack, pkg/release),
// and runs the real verifiers. It is test support: nothing in relpack
// itself imports it.
package signtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"relpack/internal/testdeps"
)

// GeneratedKey is a key made by gpg in a private GNUPGHOME.
type GeneratedKey struct {
	Home        string // the GNUPGHOME it lives in
	Passphrase  string // "" for an unprotected key
	Fingerprint string // 40 upper-case hex digits
	KeyID       string // 16 upper-case hex digits (the primary key's)
	SecretFile  string // armoured private key (gpg --export-secret-keys --armor)
	PublicFile  string // armoured public key (gpg --export --armor)
	PublicBin   string // binary public key (a keyring, for debsig-verify, gpgv)
}

// Home makes an empty GNUPGHOME, short enough for gpg-agent's socket
// path, and stops its agent when the test ends.
func Home(t testing.TB) string {
	t.Helper()
	testdeps.Tools(t, "gpg", "gpgconf") // tests that use real tools never skip: CI must have them
	dir, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = exec.Command("gpgconf", "--homedir", dir, "--kill", "all").Run()
		os.RemoveAll(dir)
	})
	return dir
}

// GPG runs gpg --batch with GNUPGHOME=home and returns stdout, stderr and
// the error of the run (an *exec.ExitError when gpg failed).
func GPG(home string, stdin []byte, args ...string) (string, string, error) {
	cmd := exec.Command("gpg", append([]string{"--homedir", home, "--batch", "--no-tty"}, args...)...)
	cmd.Env = append(os.Environ(), "GNUPGHOME="+home, "LC_ALL=C")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func mustGPG(t testing.TB, home string, args ...string) string {
	t.Helper()
	out, errOut, err := GPG(home, nil, args...)
	if err != nil {
		t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

var fprRE = regexp.MustCompile(`(?m)^fpr:+([0-9A-F]{40}):`)

// Generate makes a signing-only key with gpg --quick-gen-key: algo is
// "rsa3072", "ed25519", ...; an empty passphrase gives an unprotected key.
// The files land in a directory of their own under the test's temp dir.
func Generate(t testing.TB, algo, passphrase string) GeneratedKey {
	t.Helper()
	home := Home(t)
	uid := "relpack test <test@example.org>"
	mustGPG(t, home, "--pinentry-mode", "loopback", "--passphrase", passphrase,
		"--quick-gen-key", uid, algo, "sign", "never")
	list := mustGPG(t, home, "--with-colons", "--list-secret-keys")
	m := fprRE.FindStringSubmatch(list)
	if m == nil {
		t.Fatalf("no fingerprint in gpg --list-secret-keys output:\n%s", list)
	}
	k := GeneratedKey{Home: home, Passphrase: passphrase, Fingerprint: m[1], KeyID: m[1][24:]}
	dir := t.TempDir()
	k.SecretFile = filepath.Join(dir, "secret.asc")
	k.PublicFile = filepath.Join(dir, "KEY.asc")
	k.PublicBin = filepath.Join(dir, "key.gpg")
	sec := mustGPG(t, home, "--pinentry-mode", "loopback", "--passphrase", passphrase,
		"--armor", "--export-secret-keys", k.Fingerprint)
	write(t, k.SecretFile, []byte(sec), 0o600)
	write(t, k.PublicFile, []byte(mustGPG(t, home, "--armor", "--export", k.Fingerprint)), 0o644)
	write(t, k.PublicBin, []byte(mustGPG(t, home, "--export", k.Fingerprint)), 0o644)
	return k
}

// ExportSecretBinary writes the key's private part unarmoured to a file
// and returns its path.
func (k GeneratedKey) ExportSecretBinary(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret.gpg")
	write(t, p, []byte(mustGPG(t, k.Home, "--pinentry-mode", "loopback", "--passphrase", k.Passphrase,
		"--export-secret-keys", k.Fingerprint)), 0o600)
	return p
}

// VerifierHome makes a fresh GNUPGHOME holding only the public key in
// pubFile (armoured or binary): the state of a user who downloaded
// KEY.asc.
func VerifierHome(t testing.TB, pubFile string) string {
	t.Helper()
	home := Home(t)
	mustGPG(t, home, "--import", pubFile)
	return home
}

// Verify runs gpg --verify sig data in home and returns gpg's status
// lines (--status-fd) and its error. A good signature gives a line
// "[GNUPG:] VALIDSIG <fingerprint> ...".
func Verify(home, sigFile, dataFile string) (string, error) {
	out, errOut, err := GPG(home, nil, "--status-fd", "1", "--verify", sigFile, dataFile)
	return out + errOut, err
}

func write(t testing.TB, p string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, b, mode); err != nil {
		t.Fatal(err)
	}
}

// DebsigPolicy sets up a debsig-verify policy for the key: policies and
// keyrings directories, as /etc/debsig/policies and
// /usr/share/debsig/keyrings would hold them.
func DebsigPolicy(t testing.TB, keyID, pubBin string) (policies, keyrings string) {
	t.Helper()
	testdeps.Tools(t, "debsig-verify") // DebsigVerify runs it
	root := t.TempDir()
	policies = filepath.Join(root, "policies")
	keyrings = filepath.Join(root, "keyrings")
	os.MkdirAll(filepath.Join(policies, keyID), 0o755)
	os.MkdirAll(filepath.Join(keyrings, keyID), 0o755)
	pol := `<?xml version="1.0"?>
<!DOCTYPE Policy SYSTEM "https://www.debian.org/debsig/1.0/policy.dtd">
<Policy xmlns="https://www.debian.org/debsig/1.0/">
  <Origin Name="relpack-test" id="` + keyID + `" Description="relpack test key"/>
  <Selection>
    <Required Type="origin" File="relpack.pgp" id="` + keyID + `"/>
  </Selection>
  <Verification MinOptional="0">
    <Required Type="origin" File="relpack.pgp" id="` + keyID + `"/>
  </Verification>
</Policy>
`
	if err := os.WriteFile(filepath.Join(policies, keyID, "relpack.pol"), []byte(pol), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(pubBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(keyrings, keyID, "relpack.pgp"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return policies, keyrings
}

// DebsigVerify runs the real debsig-verify on a deb with the given policies
// and keyrings folders; it returns the output and the exit code (0 verified,
// 11 no policy for the key, 13 a bad signature).
func DebsigVerify(policies, keyrings, deb string) (string, int) {
	cmd := exec.Command("debsig-verify", "--policies-dir", policies, "--keyrings-dir", keyrings, deb)
	var o bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &o
	err := cmd.Run()
	out := o.String()
	if err == nil {
		return out, 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return out, ee.ExitCode()
	}
	return out + err.Error(), -1
}
