package sign_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"relpack/pkg/sign"
	"relpack/pkg/sign/signtest"
)

const testPassphrase = "correct horse battery staple 7"

// Keys are slow to make (RSA 3072); make each kind once per test binary.
var (
	keysOnce sync.Once
	rsaProt  signtest.GeneratedKey // RSA 3072, passphrase-protected
	rsaPlain signtest.GeneratedKey // RSA 3072, no passphrase
	edPlain  signtest.GeneratedKey // ed25519, passphrase-protected
)

// sharedDir holds the shared keys' files; TestMain removes it.
var sharedDir string

func TestMain(m *testing.M) {
	code := m.Run()
	for _, c := range cleanups {
		c()
	}
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

var cleanups []func()

// sharedTB is a testing.TB whose Cleanup and TempDir outlive one test.
type sharedTB struct {
	*testing.T
}

func (s sharedTB) Cleanup(f func()) { cleanups = append(cleanups, f) }
func (s sharedTB) TempDir() string {
	d, err := os.MkdirTemp(sharedDir, "k")
	if err != nil {
		s.T.Fatal(err)
	}
	return d
}

func keys(t *testing.T) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		sharedDir, err = os.MkdirTemp("", "relpack-sign-test-")
		if err != nil {
			t.Fatal(err)
		}
		tb := sharedTB{t}
		rsaProt = signtest.Generate(tb, "rsa3072", testPassphrase)
		rsaPlain = signtest.Generate(tb, "rsa3072", "")
		edPlain = signtest.Generate(tb, "ed25519", testPassphrase)
	})
	if rsaProt.Fingerprint == "" {
		t.Fatal("test keys were not generated (see the first failing test)")
	}
}

func load(t *testing.T, k signtest.GeneratedKey) *sign.Key {
	t.Helper()
	t.Setenv(sign.PassphraseEnv, k.Passphrase)
	key, err := sign.LoadKey(k.SecretFile)
	if err != nil {
		t.Fatalf("LoadKey: %v", err)
	}
	return key
}

func TestLoadKeyFacts(t *testing.T) {
	keys(t)
	for _, g := range []signtest.GeneratedKey{rsaProt, rsaPlain, edPlain} {
		k := load(t, g)
		if k.Fingerprint != g.Fingerprint {
			t.Errorf("Fingerprint = %q, gpg says %q", k.Fingerprint, g.Fingerprint)
		}
		if !regexp.MustCompile(`^[0-9A-F]{40}$`).MatchString(k.Fingerprint) {
			t.Errorf("Fingerprint %q is not 40 upper-case hex digits", k.Fingerprint)
		}
		if k.KeyID != g.KeyID {
			t.Errorf("KeyID = %q, want %q (the primary key signs)", k.KeyID, g.KeyID)
		}
		if k.UserID != "relpack test <test@example.org>" {
			t.Errorf("UserID = %q", k.UserID)
		}
		if !bytes.HasPrefix(k.Armored, []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----")) {
			t.Errorf("Armored does not start with the armour header")
		}
		if k.Passphrase != g.Passphrase {
			t.Errorf("Passphrase not kept")
		}
		// Printing or marshalling a key never shows its secrets.
		j, err := json.Marshal(k)
		if err != nil || strings.Contains(string(j), "PRIVATE") || g.Passphrase != "" && strings.Contains(string(j), g.Passphrase) || !strings.Contains(string(j), k.Fingerprint) {
			t.Errorf("json.Marshal(key) = %s, %v", j, err)
		}
		for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v", *k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k), fmt.Sprintf("%s", k)} {
			if g.Passphrase != "" && strings.Contains(s, g.Passphrase) || strings.Contains(s, "PRIVATE KEY") {
				t.Errorf("formatting the key leaks a secret: %s", s)
			}
			if !strings.Contains(s, k.Fingerprint) {
				t.Errorf("formatted key %q does not name its fingerprint", s)
			}
		}
	}
}

func TestLoadKeyBinaryAndEnv(t *testing.T) {
	keys(t)
	bin := rsaProt.ExportSecretBinary(t)
	t.Setenv(sign.PassphraseEnv, testPassphrase)
	k, err := sign.LoadKey(bin)
	if err != nil {
		t.Fatalf("LoadKey(binary): %v", err)
	}
	if k.Fingerprint != rsaProt.Fingerprint || !bytes.HasPrefix(k.Armored, []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----")) {
		t.Errorf("binary key: fingerprint %s, armoured %v", k.Fingerprint, bytes.HasPrefix(k.Armored, []byte("-----BEGIN")))
	}
	armored, err := os.ReadFile(rsaProt.SecretFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("RELPACK_TEST_SIGNING_KEY", string(armored))
	k, err = sign.LoadKeyFromEnv("RELPACK_TEST_SIGNING_KEY")
	if err != nil {
		t.Fatalf("LoadKeyFromEnv: %v", err)
	}
	if k.Fingerprint != rsaProt.Fingerprint {
		t.Errorf("env key fingerprint %s, want %s", k.Fingerprint, rsaProt.Fingerprint)
	}
	// A key built by hand from Armored + Passphrase works too.
	hand := &sign.Key{Armored: k.Armored, Passphrase: testPassphrase, Fingerprint: k.Fingerprint}
	var sig bytes.Buffer
	if err := sign.DetachSign(hand, strings.NewReader("x"), &sig); err != nil {
		t.Fatalf("DetachSign with a hand-made Key: %v", err)
	}
}

// checkErr asserts that err is non-nil, contains every want, and leaks
// neither the passphrase nor key material.
func checkErr(t *testing.T, err error, secrets []string, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one containing %q", want)
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error %q leaks secret %q", msg, s)
		}
	}
	if strings.Contains(msg, "BEGIN PGP") {
		t.Errorf("error %q leaks key material", msg)
	}
}

// keyLines are lines of the armoured key body: none may appear in an error.
func keyLines(t *testing.T, file string) []string {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if len(l) > 20 && !strings.HasPrefix(l, "-----") {
			out = append(out, l[:20])
		}
	}
	return out
}

func TestLoadKeyErrors(t *testing.T) {
	keys(t)
	secrets := append(keyLines(t, rsaProt.SecretFile), testPassphrase, "wrong-pass-phrase-42")

	t.Run("wrong passphrase", func(t *testing.T) {
		t.Setenv(sign.PassphraseEnv, "wrong-pass-phrase-42")
		_, err := sign.LoadKey(rsaProt.SecretFile)
		checkErr(t, err, secrets, rsaProt.SecretFile, sign.PassphraseEnv, "does not unlock")
	})
	t.Run("missing passphrase", func(t *testing.T) {
		t.Setenv(sign.PassphraseEnv, "")
		_, err := sign.LoadKey(rsaProt.SecretFile)
		checkErr(t, err, secrets, rsaProt.SecretFile, "protected by a passphrase", "set "+sign.PassphraseEnv)
	})
	t.Run("missing passphrase, env key", func(t *testing.T) {
		b, _ := os.ReadFile(rsaProt.SecretFile)
		t.Setenv("RELPACK_TEST_KEY", string(b))
		os.Unsetenv(sign.PassphraseEnv)
		_, err := sign.LoadKeyFromEnv("RELPACK_TEST_KEY")
		checkErr(t, err, secrets, "environment variable RELPACK_TEST_KEY", sign.PassphraseEnv)
	})
	t.Run("wrong passphrase, ed25519", func(t *testing.T) {
		t.Setenv(sign.PassphraseEnv, "wrong-pass-phrase-42")
		_, err := sign.LoadKey(edPlain.SecretFile)
		checkErr(t, err, append(secrets, keyLines(t, edPlain.SecretFile)...), edPlain.SecretFile, "does not unlock")
	})
	t.Run("garbage file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "garbage.asc")
		garbage := "this is not a key but a secret-ish string 0xDEADBEEF\n"
		os.WriteFile(p, []byte(garbage), 0o600)
		t.Setenv(sign.PassphraseEnv, testPassphrase)
		_, err := sign.LoadKey(p)
		checkErr(t, err, append(secrets, "0xDEADBEEF"), p, "not a readable OpenPGP private key", "gpg --export-secret-keys")
	})
	t.Run("garbage armour", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "bad.asc")
		os.WriteFile(p, []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nc2VjcmV0c2VjcmV0\n=AAAA\n-----END PGP PRIVATE KEY BLOCK-----\n"), 0o600)
		_, err := sign.LoadKey(p)
		checkErr(t, err, append(secrets, "c2VjcmV0c2VjcmV0"), p, "not a readable OpenPGP private key")
	})
	t.Run("public key only", func(t *testing.T) {
		_, err := sign.LoadKey(rsaProt.PublicFile)
		checkErr(t, err, secrets, rsaProt.PublicFile, "only a public key")
	})
	t.Run("no such file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "absent.asc")
		_, err := sign.LoadKey(p)
		checkErr(t, err, secrets, "signing key file "+p, "no such file")
	})
	t.Run("key pasted as a path", func(t *testing.T) {
		b, _ := os.ReadFile(rsaPlain.SecretFile)
		_, err := sign.LoadKey(string(b))
		checkErr(t, err, append(secrets, keyLines(t, rsaPlain.SecretFile)...), "holds key material, not a path")
	})
	t.Run("env unset", func(t *testing.T) {
		os.Unsetenv("RELPACK_TEST_ABSENT_KEY")
		_, err := sign.LoadKeyFromEnv("RELPACK_TEST_ABSENT_KEY")
		checkErr(t, err, secrets, "environment variable RELPACK_TEST_ABSENT_KEY", "not set")
	})
	t.Run("env holds a path", func(t *testing.T) {
		t.Setenv("RELPACK_TEST_PATH_KEY", "/secret/location/key.asc")
		_, err := sign.LoadKeyFromEnv("RELPACK_TEST_PATH_KEY")
		checkErr(t, err, append(secrets, "/secret/location"), "RELPACK_TEST_PATH_KEY", "ASCII-armoured")
	})
	t.Run("two keys", func(t *testing.T) {
		a, _ := os.ReadFile(rsaPlain.SecretFile)
		b, _ := os.ReadFile(edPlain.SecretFile)
		p := filepath.Join(t.TempDir(), "two.asc")
		os.WriteFile(p, append(a, b...), 0o600)
		t.Setenv(sign.PassphraseEnv, testPassphrase)
		_, err := sign.LoadKey(p)
		checkErr(t, err, secrets, p, "2 private keys", rsaPlain.Fingerprint, edPlain.Fingerprint)
	})
	t.Run("unprotected key ignores passphrase", func(t *testing.T) {
		t.Setenv(sign.PassphraseEnv, "anything")
		if _, err := sign.LoadKey(rsaPlain.SecretFile); err != nil {
			t.Errorf("unprotected key with a passphrase set: %v", err)
		}
	})
}

func TestDetachSignVerifiesWithGPG(t *testing.T) {
	keys(t)
	for _, g := range []signtest.GeneratedKey{rsaProt, rsaPlain, edPlain} {
		k := load(t, g)
		dir := t.TempDir()
		sums := filepath.Join(dir, "SHA256SUMS")
		content := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  openshell-gateway-x86_64-unknown-linux-gnu.tar.gz\n"
		os.WriteFile(sums, []byte(content), 0o644)
		var sig bytes.Buffer
		if err := sign.DetachSign(k, strings.NewReader(content), &sig); err != nil {
			t.Fatalf("DetachSign: %v", err)
		}
		if !bytes.HasPrefix(sig.Bytes(), []byte("-----BEGIN PGP SIGNATURE-----")) {
			t.Fatalf("signature is not armoured:\n%s", sig.String())
		}
		asc := sums + ".asc"
		os.WriteFile(asc, sig.Bytes(), 0o644)

		// The published public key, as a user imports it.
		pub, err := sign.PublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(pub, []byte("PRIVATE")) || !bytes.HasPrefix(pub, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
			t.Fatalf("PublicKey output is not an armoured public key")
		}
		pubFile := filepath.Join(dir, "KEY.asc")
		os.WriteFile(pubFile, pub, 0o644)
		home := signtest.VerifierHome(t, pubFile)
		status, err := signtest.Verify(home, asc, sums)
		if err != nil {
			t.Fatalf("gpg --verify rejected the signature: %v\n%s", err, status)
		}
		if !strings.Contains(status, "[GNUPG:] VALIDSIG "+g.Fingerprint) {
			t.Errorf("no VALIDSIG for %s:\n%s", g.Fingerprint, status)
		}
		// SHA-256 (digest algo 8), and no critical subpacket (rpm <= 4.16).
		packets, _, _ := signtest.GPG(home, nil, "--list-packets", asc)
		if !strings.Contains(packets, "digest algo 8") {
			t.Errorf("signature is not SHA-256:\n%s", packets)
		}
		if strings.Contains(packets, "critical") {
			t.Errorf("signature has a critical subpacket:\n%s", packets)
		}
		if strings.Contains(packets, "notation") {
			t.Errorf("signature carries a notation (salt):\n%s", packets)
		}

		// Tampered data fails.
		os.WriteFile(sums, []byte(strings.Replace(content, "e3b0", "e3b1", 1)), 0o644)
		if status, err := signtest.Verify(home, asc, sums); err == nil || !strings.Contains(status, "BADSIG") {
			t.Errorf("gpg --verify accepted tampered data (err %v):\n%s", err, status)
		}
		// A key the user does not have: no valid signature.
		other := signtest.VerifierHome(t, rsaPlain.PublicFile)
		if g.Fingerprint != rsaPlain.Fingerprint {
			os.WriteFile(sums, []byte(content), 0o644)
			if status, err := signtest.Verify(other, asc, sums); err == nil || !strings.Contains(status, "NO_PUBKEY") {
				t.Errorf("gpg --verify without the key (err %v):\n%s", err, status)
			}
		}
	}
}

func TestPublicKeyMatchesGPG(t *testing.T) {
	keys(t)
	k := load(t, rsaProt)
	pub, err := sign.PublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	home := signtest.Home(t)
	out, errOut, err := signtest.GPG(home, pub, "--with-colons", "--import-options", "show-only", "--import")
	if err != nil {
		t.Fatalf("gpg cannot read PublicKey output: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, "fpr:::::::::"+rsaProt.Fingerprint+":") {
		t.Errorf("PublicKey output is not key %s:\n%s", rsaProt.Fingerprint, out)
	}
}

func TestDetachSignAtIsReproducible(t *testing.T) {
	keys(t)
	for _, g := range []signtest.GeneratedKey{rsaProt, edPlain} {
		k := load(t, g)
		future := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
		sig := func(at time.Time) []byte {
			var b bytes.Buffer
			if err := sign.DetachSignAt(k, strings.NewReader("data\n"), &b, at); err != nil {
				t.Fatal(err)
			}
			return b.Bytes()
		}
		a, b := sig(future), sig(future)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two signatures at the same time differ", g.Fingerprint)
		}
		home := signtest.VerifierHome(t, g.PublicFile)
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "d"), []byte("data\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "d.asc"), a, 0o644)
		status, err := signtest.Verify(home, filepath.Join(dir, "d.asc"), filepath.Join(dir, "d"))
		if err != nil {
			t.Fatalf("verify: %v\n%s", err, status)
		}
		if !strings.Contains(status, fmt.Sprintf(" %d ", future.Unix())) {
			t.Errorf("VALIDSIG does not carry the creation time %d:\n%s", future.Unix(), status)
		}
		// A time before the key existed is moved up to the key's creation,
		// deterministically, and gpg accepts it.
		old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
		c, d := sig(old), sig(old)
		if !bytes.Equal(c, d) {
			t.Errorf("signatures clamped to the key creation time differ")
		}
		os.WriteFile(filepath.Join(dir, "d.asc"), c, 0o644)
		if status, err := signtest.Verify(home, filepath.Join(dir, "d.asc"), filepath.Join(dir, "d")); err != nil {
			t.Errorf("signature at a time before the key: %v\n%s", err, status)
		}
	}
}

// TestConcurrentSigning: pkg/release writes packages in parallel with one
// Key; signing must not race (run with -race).
func TestConcurrentSigning(t *testing.T) {
	keys(t)
	k := load(t, rsaProt)
	var wg sync.WaitGroup
	sigs := make([][]byte, 8)
	at := time.Now().Add(time.Hour).Truncate(time.Second)
	for i := range sigs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b bytes.Buffer
			if err := sign.DetachSignAt(k, strings.NewReader("same data"), &b, at); err != nil {
				t.Error(err)
			}
			sigs[i] = b.Bytes()
		}()
	}
	wg.Wait()
	for i := range sigs {
		if !bytes.Equal(sigs[i], sigs[0]) {
			t.Errorf("concurrent signature %d differs", i)
		}
	}
}

// The demo's public key file (make demo runs relpack verify-release --key
// with it) is the public part of the demo's signing key, as relpack
// writes it into KEY.asc: it cannot drift from the key that signs.
func TestDemoPublicKeyFile(t *testing.T) {
	k, err := sign.LoadKey("../../testdata/demo/demo-signing-key.asc")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := sign.PublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("../../testdata/demo/demo-signing-key.pub.asc")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, pub) {
		t.Errorf("testdata/demo/demo-signing-key.pub.asc is not the public part of demo-signing-key.asc; write it again from a signed build's KEY.asc (make demo: dist/KEY.asc)")
	}
}
