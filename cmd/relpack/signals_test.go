package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ProtonMail/go-crypto/openpgp/s2k"

	"relpack/internal/clitest"
	"relpack/pkg/manifest"
	"relpack/pkg/sign/signtest"
)

// slowKey writes a binary OpenPGP v4 private key whose passphrase is
// derived with Argon2 (S2K usage 253, AEAD) at 255 passes over 64 MiB:
// tens of seconds of key derivation before relpack can tell whether the
// passphrase fits, work go-crypto does without looking at any context.
// The key is encrypted cheaply (1 pass, 64 KiB) and its parameters raised
// in the bytes afterwards, so making it takes no time; the derivation then
// gives another key and the passphrase is refused, after the slow part.
func slowKey(t *testing.T) (path, fingerprint string) {
	t.Helper()
	e, err := openpgp.NewEntity("relpack slow key", "", "slow@example.org", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &packet.Config{
		S2KConfig:  &s2k.Config{S2KMode: s2k.Argon2S2K, Argon2Config: &s2k.Argon2Config{NumberOfPasses: 1, DegreeOfParallelism: 1, Memory: 64}},
		AEADConfig: &packet.AEADConfig{},
	}
	if err := e.EncryptPrivateKeys([]byte("pass"), cfg); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := e.SerializePrivateWithoutSigning(&b, nil); err != nil {
		t.Fatal(err)
	}
	key := b.Bytes()
	patched := 0
	// usage 253, cipher, AEAD mode, then the S2K specifier: 4 (Argon2),
	// 16 bytes of salt, passes, parallelism, encoded memory (2^6 KiB).
	for i := 0; i+23 <= len(key); i++ {
		if key[i] == 253 && key[i+3] == 4 && key[i+20] == 1 && key[i+21] == 1 && key[i+22] == 6 {
			key[i+20], key[i+22] = 255, 16
			patched++
		}
	}
	if patched == 0 {
		t.Fatal("no Argon2 S2K specifier found in the serialized key")
	}
	p := filepath.Join(t.TempDir(), "slow.gpg")
	if err := os.WriteFile(p, key, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
}

// interruptRun starts relpack with args and, after wait, sends it SIGINT
// once. It returns stderr, the exit code and how long relpack took to
// exit after the signal. A run still going 20 s after the signal is
// killed (code -1).
func interruptRun(t *testing.T, wait time.Duration, env []string, args ...string) (stderr string, code int, after time.Duration) {
	t.Helper()
	cmd := exec.Command(clitest.Bin(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &bytes.Buffer{}, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		t.Fatalf("relpack %s exited before the signal (%v):\n%s", strings.Join(args, " "), err, e.String())
	case <-time.After(wait):
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		after = time.Since(sent)
		code = cmd.ProcessState.ExitCode()
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-exited
		after, code = time.Since(sent), -1
	}
	return e.String(), code, after
}

// The goal is 1 s; the bound leaves room for a loaded CI machine.
const signalBound = 3 * time.Second

// Issue 18, section 4: the first SIGINT while the signing key is being
// unlocked stops relpack at once (exit 130), whatever the command: the
// key derivation cannot look at a context, and nothing has been written
// yet, so build, merge --sign and repo exit without waiting for it and
// leave --out's parent as it was. They printed "stopping" and went on
// deriving the key.
func TestSignalWhileUnlockingKey(t *testing.T) {
	keyFile, fpr := slowKey(t)
	env := []string{"RELPACK_SIGNING_PASSPHRASE=pass"}
	signed := demoConfigSigned(t, keyFile)
	dist := demoReleaseForRepo(t)
	// Partials that say they were signed by the slow key (merge --sign
	// checks that before it loads the key).
	x, a := demoPartial(t, "x86_64"), demoPartial(t, "aarch64")
	for _, d := range []string{x, a} {
		editRelease(t, d, func(m *manifest.Manifest) {
			m.Signing = &manifest.Signing{Fingerprint: fpr, Signature: "SHA256SUMS.asc", PublicKey: "KEY.asc"}
			if m.Provenance != nil { // a signed release signs its provenance too
				m.Provenance.Signature = m.Provenance.File + ".asc"
			}
		})
	}
	for _, c := range []struct {
		name string
		args func(out string) []string
	}{
		{"build --sign", func(out string) []string {
			return []string{"build", "-q", "-c", signed, "--version", "0.1.0", "--sign", "--out", out}
		}},
		{"merge --sign", func(out string) []string { return []string{"merge", x, a, "--sign", "-c", signed, "--out", out} }},
		{"repo", func(out string) []string {
			return []string{"repo", dist, "--out", out, "--url", "https://example.org/r", "-c", repoConfig(t, keyFile)}
		}},
	} {
		parent := t.TempDir()
		os.WriteFile(filepath.Join(parent, "victim"), []byte("kept\n"), 0o644)
		before := stateOfTree(t, parent)
		distBefore := stateOfTree(t, dist)
		stderr, code, after := interruptRun(t, 1500*time.Millisecond, env, c.args(filepath.Join(parent, "out"))...)
		if code != 130 || after > signalBound {
			t.Errorf("%s: exit %d %v after SIGINT, want 130 within %v\n%s", c.name, code, after.Round(time.Millisecond), signalBound, stderr)
		}
		if !strings.Contains(stderr, "interrupt: stopped; nothing was written") && !strings.Contains(stderr, "interrupted") {
			t.Errorf("%s: no word of the interruption:\n%s", c.name, stderr)
		}
		sameTree(t, c.name, parent, before)
		sameTree(t, c.name+": the release", dist, distBefore)
	}
}

// bigArtifact makes dist's first tarball an 8 GiB sparse file and records
// that size, with a made-up sha256, in manifest.json and SHA256SUMS (and
// manifest.json's new sha256 in SHA256SUMS): a release that agrees with
// itself until the tarball has been hashed, which takes seconds. Reading
// sparse pages costs no disk.
func bigArtifact(t *testing.T, dist string) {
	t.Helper()
	const size = 8 << 30
	zeros := strings.Repeat("0", 64)
	var name string
	editRelease(t, dist, func(m *manifest.Manifest) {
		for i := range m.Artifacts {
			if a := &m.Artifacts[i]; a.Kind == "tarball" {
				name, a.Size, a.SHA256 = a.File, size, zeros
				return
			}
		}
		t.Fatal("the demo release has no tarball")
	})
	if err := os.Truncate(filepath.Join(dist, name), size); err != nil {
		t.Fatal(err)
	}
	sp := filepath.Join(dist, "SHA256SUMS")
	sums, err := os.ReadFile(sp)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.SplitAfter(string(sums), "\n") {
		if strings.HasSuffix(l, "  "+name+"\n") {
			l = zeros + "  " + name + "\n"
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(sp, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Issue 18, section 4: the first SIGINT stops a long verification within
// the bound, in both of relpack's states. verify-release writes nothing,
// so the signal ends it at once; repo (which may write the tree) cancels
// the verification's reads through its context and returns, leaving no
// --out. Before, repo's hashing of a release's files could not be
// interrupted.
func TestSignalStopsLongVerification(t *testing.T) {
	key := signtest.Generate(t, "ed25519", "")
	dist := demoReleaseForRepo(t)
	bigArtifact(t, dist)
	distBefore := stateOfTree(t, dist)
	for _, c := range []struct {
		name string
		args func(out string) []string
		say  string
	}{
		{"verify-release", func(string) []string { return []string{"verify-release", dist} }, "stopped; nothing was written"},
		{"repo", func(out string) []string {
			return []string{"repo", dist, "--allow-unsigned-release", "--out", out, "--url", "https://example.org/r", "-c", repoConfig(t, key.SecretFile)}
		}, "interrupted"},
	} {
		parent := t.TempDir()
		before := stateOfTree(t, parent)
		stderr, code, after := interruptRun(t, 700*time.Millisecond, nil, c.args(filepath.Join(parent, "out"))...)
		if code != 130 || after > signalBound {
			t.Errorf("%s: exit %d %v after SIGINT, want 130 within %v\n%s", c.name, code, after.Round(time.Millisecond), signalBound, stderr)
		}
		if !strings.Contains(stderr, c.say) {
			t.Errorf("%s: stderr lacks %q:\n%s", c.name, c.say, stderr)
		}
		sameTree(t, c.name, parent, before)
		sameTree(t, c.name+": the release", dist, distBefore)
	}
}
