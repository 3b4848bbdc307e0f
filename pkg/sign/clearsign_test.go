package sign_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"relpack/pkg/sign"
	"relpack/pkg/sign/signtest"
)

// TestClearSignAtVerifiesWithGPG: gpg accepts ClearSignAt's message, gives
// back exactly the signed text, and refuses it once a signed line is edited;
// the same inputs give the same bytes.
func TestClearSignAtVerifiesWithGPG(t *testing.T) {
	keys(t)
	// Lines starting with '-' must be dash-escaped, trailing blanks are
	// not part of a clear-signed text: Release has neither, but the
	// function signs whatever it is given.
	text := "Origin: relpack\nSuite: bullseye\n-dash line\nDate: Sat, 01 Jan 2022 00:00:00 UTC\n"
	for _, g := range []signtest.GeneratedKey{rsaProt, edPlain} {
		k := load(t, g)
		at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		sig := func() []byte {
			var b bytes.Buffer
			if err := sign.ClearSignAt(k, []byte(text), &b, at); err != nil {
				t.Fatalf("ClearSignAt: %v", err)
			}
			return b.Bytes()
		}
		msg := sig()
		if again := sig(); !bytes.Equal(msg, again) {
			t.Errorf("%s: two clear-signed messages of the same text at the same time differ", g.Fingerprint)
		}
		if !bytes.HasPrefix(msg, []byte("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nOrigin: relpack\n")) {
			t.Errorf("message does not start as gpg --clearsign's does:\n%s", msg)
		}
		// As gpg writes it: the text's last newline is the one before the armour.
		if !bytes.Contains(msg, []byte("- -dash line\nDate: Sat, 01 Jan 2022 00:00:00 UTC\n-----BEGIN PGP SIGNATURE-----\n")) {
			t.Errorf("dash escaping or the end of the text differ from gpg's:\n%s", msg)
		}
		dir := t.TempDir()
		in := filepath.Join(dir, "InRelease")
		os.WriteFile(in, msg, 0o644)
		home := signtest.VerifierHome(t, g.PublicFile)
		out, errOut, err := signtest.GPG(home, nil, "--status-fd", "2", "--output", "-", "--decrypt", in)
		if err != nil {
			t.Fatalf("gpg --decrypt rejected the message: %v\n%s", err, errOut)
		}
		if !strings.Contains(errOut, "[GNUPG:] VALIDSIG "+g.Fingerprint) || !strings.Contains(errOut, fmt.Sprintf(" %d ", at.Unix())) {
			t.Errorf("no VALIDSIG by %s at %d:\n%s", g.Fingerprint, at.Unix(), errOut)
		}
		if out != text {
			t.Errorf("gpg gives back %q, signed %q", out, text)
		}
		// gpg --list-packets stops at a clear-signed text's literal data:
		// list the signature block on its own.
		sigOnly := filepath.Join(dir, "sig.asc")
		os.WriteFile(sigOnly, msg[bytes.Index(msg, []byte("-----BEGIN PGP SIGNATURE-----")):], 0o644)
		packets, _, _ := signtest.GPG(home, nil, "--list-packets", sigOnly)
		if !strings.Contains(packets, "digest algo 8") || strings.Contains(packets, "critical") || strings.Contains(packets, "notation") {
			t.Errorf("signature packet is not plain SHA-256 without critical subpackets or notations:\n%s", packets)
		}
		os.WriteFile(in, bytes.Replace(msg, []byte("Suite: bullseye"), []byte("Suite: bookworm"), 1), 0o644)
		if status, errOut, err := signtest.GPG(home, nil, "--status-fd", "1", "--verify", in); err == nil || !strings.Contains(status, "BADSIG") {
			status += errOut
			t.Errorf("gpg accepted an edited message (err %v):\n%s", err, status)
		}
	}
}

func TestClearSignAtNoKey(t *testing.T) {
	if err := sign.ClearSignAt(nil, []byte("x\n"), &bytes.Buffer{}, time.Time{}); err == nil {
		t.Error("ClearSignAt without a key succeeded")
	}
}
