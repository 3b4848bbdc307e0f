package release

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"relpack/internal/testdeps"
	"relpack/pkg/config"
	"relpack/pkg/sign"
	"relpack/pkg/sign/signtest"
)

// TestSignedDemoBuild signs the demo build with a throwaway key made now:
// every rpm passes rpm -K with the key imported, every deb passes the real
// debsig-verify, and gpg --verify accepts SHA256SUMS.asc.
func TestSignedDemoBuild(t *testing.T) {
	testdeps.Tools(t, "gpg", "rpm", "debsig-verify")
	key := signtest.Generate(t, "rsa3072", "correct horse")
	c := loadDemo(t)
	c.Signing = &config.Signing{KeyFile: key.SecretFile}
	t.Setenv(sign.PassphraseEnv, "correct horse")
	out := filepath.Join(t.TempDir(), "dist")
	m, err := Run(Options{Config: c, Version: demoVer, OutDir: out, Epoch: DefaultEpoch, Sign: true})
	if err != nil {
		t.Fatal(err)
	}
	if m.Signing == nil || m.Signing.Fingerprint != key.Fingerprint {
		t.Fatalf("manifest signing %+v, want fingerprint %s", m.Signing, key.Fingerprint)
	}

	home := signtest.VerifierHome(t, filepath.Join(out, "KEY.asc"))
	if st, err := signtest.Verify(home, filepath.Join(out, "SHA256SUMS.asc"), filepath.Join(out, "SHA256SUMS")); err != nil || !strings.Contains(st, "VALIDSIG "+key.Fingerprint) {
		t.Errorf("gpg --verify SHA256SUMS.asc: %v\n%s", err, st)
	}

	db := t.TempDir()
	sh(t, "", "rpm", "--dbpath", db, "--import", filepath.Join(out, "KEY.asc"))
	policies, keyrings := signtest.DebsigPolicy(t, key.KeyID, key.PublicBin)
	rpms, debs := 0, 0
	for _, a := range m.Artifacts {
		p := filepath.Join(out, a.File)
		switch a.Kind {
		case "rpm":
			if o := sh(t, "", "rpm", "--dbpath", db, "-K", p); !strings.Contains(o, "digests signatures OK") {
				t.Errorf("rpm -K %s: %s", a.File, o)
			}
			rpms++
		case "deb":
			if o, code := signtest.DebsigVerify(policies, keyrings, p); code != 0 {
				t.Errorf("debsig-verify %s: exit %d\n%s", a.File, code, o)
			}
			debs++
		}
	}
	if rpms == 0 || debs == 0 {
		t.Errorf("signed %d rpms and %d debs", rpms, debs)
	}
}

func TestSigningRefusals(t *testing.T) {
	key := signtest.Generate(t, "rsa3072", "correct horse")
	out := filepath.Join(t.TempDir(), "dist")

	c := loadDemo(t)
	if _, err := Run(Options{Config: c, Version: demoVer, OutDir: out, Epoch: DefaultEpoch, Sign: true}); err == nil ||
		!strings.Contains(err.Error(), "--sign: ") || !strings.Contains(err.Error(), "has no signing section") {
		t.Errorf("--sign without a signing section: %v", err)
	}

	c.Signing = &config.Signing{KeyFile: key.SecretFile}
	t.Setenv(sign.PassphraseEnv, "wrong horse")
	_, err := Run(Options{Config: c, Version: demoVer, OutDir: out, Epoch: DefaultEpoch, Sign: true})
	if err == nil || !strings.Contains(err.Error(), key.SecretFile) || strings.Contains(err.Error(), "wrong horse") {
		t.Errorf("wrong passphrase: %v", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) > 0 {
		t.Errorf("a failed signing build left files: %v", entries)
	}
	// Without --sign the configured key is not touched: an unsigned build.
	m, err := Run(Options{Config: c, Version: demoVer, OutDir: out, Epoch: DefaultEpoch})
	if err != nil || m.Signing != nil {
		t.Errorf("unsigned build: %v, signing %+v", err, m)
	}
	if _, err := os.Stat(filepath.Join(out, "SHA256SUMS.asc")); err == nil {
		t.Error("unsigned build wrote SHA256SUMS.asc")
	}
}
