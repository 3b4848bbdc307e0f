package pack

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"relpack/internal/testdeps"
	"relpack/pkg/sign"
	"relpack/pkg/sign/signtest"
)

const signPassphrase = "pack-test passphrase 11"

// signingKey makes a throwaway key with gpg and loads it the way relpack
// does (file + RELPACK_SIGNING_PASSPHRASE). It returns the key and the
// path of its armoured public key as sign.PublicKey exports it (KEY.asc).
func signingKey(t *testing.T, algo, passphrase string) (*sign.Key, string, signtest.GeneratedKey) {
	t.Helper()
	g := signtest.Generate(t, algo, passphrase)
	t.Setenv(sign.PassphraseEnv, passphrase)
	k, err := sign.LoadKey(g.SecretFile)
	if err != nil {
		t.Fatalf("LoadKey: %v", err)
	}
	pub, err := sign.PublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pubFile := filepath.Join(t.TempDir(), "KEY.asc")
	if err := os.WriteFile(pubFile, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	return k, pubFile, g
}

// rpmDB makes an empty rpm database; with pubFile, the key is imported
// into it (rpm --import), as an admin does with the published KEY.asc.
func rpmDB(t *testing.T, pubFile string) string {
	t.Helper()
	db := t.TempDir()
	if pubFile != "" {
		run(t, nil, "rpm", "--dbpath", db, "--import", pubFile)
	}
	return db
}

// rpmCheck runs rpm -K (and -Kv) against db and returns the outputs and
// whether rpm accepted the package.
func rpmCheck(db, file string) (short, verbose string, ok bool) {
	short, err1 := runErr(nil, "rpm", "--dbpath", db, "-K", file)
	verbose, err2 := runErr(nil, "rpm", "--dbpath", db, "-Kv", file)
	return short, verbose, err1 == nil && err2 == nil
}

func TestSignedRPM(t *testing.T) {
	testdeps.Tool(t, "rpm")
	for _, tc := range []struct {
		algo, passphrase, sigAlgo string
	}{
		{"rsa3072", signPassphrase, "RSA/SHA256"},
		{"rsa3072", "", "RSA/SHA256"},
		{"ed25519", signPassphrase, "EdDSA/SHA256"},
	} {
		t.Run(fmt.Sprintf("%s/protected=%v", tc.algo, tc.passphrase != ""), func(t *testing.T) {
			key, pubFile, _ := signingKey(t, tc.algo, tc.passphrase)
			pkg, _ := writeFixturePackage(t, "rpm", func(s *PackageSpec) { s.Signing = key })
			shortID := strings.ToLower(key.KeyID[8:])

			// With the key imported: every digest and both signatures OK.
			db := rpmDB(t, pubFile)
			short, verbose, ok := rpmCheck(db, pkg)
			if !ok || !strings.HasSuffix(strings.TrimSpace(short), "digests signatures OK") {
				t.Fatalf("rpm -K with the key imported:\n%s\n%s", short, verbose)
			}
			for _, want := range []string{
				"Header V4 " + tc.sigAlgo + " Signature, key ID " + shortID + ": OK", // RSAHEADER (268)
				"V4 " + tc.sigAlgo + " Signature, key ID " + shortID + ": OK",        // SIGPGP (1002)
				"Header SHA256 digest: OK",
				"Payload SHA256 digest: OK",
			} {
				if !strings.Contains(verbose, want) {
					t.Errorf("rpm -Kv lacks %q:\n%s", want, verbose)
				}
			}
			t.Logf("rpm -Kv:\n%s", verbose)
			// Both signature tags hold the key's signature.
			tags := run(t, nil, "rpm", "--dbpath", db, "-qp", "--qf", "%{RSAHEADER:pgpsig}|%{SIGPGP:pgpsig}", pkg)
			for _, part := range strings.Split(tags, "|") {
				if !strings.Contains(part, strings.ToLower(key.KeyID)) {
					t.Errorf("signature tag %q does not name key %s", part, key.KeyID)
				}
			}

			// Without the key: NOKEY, and rpm -K fails.
			short, verbose, ok = rpmCheck(rpmDB(t, ""), pkg)
			t.Logf("without the key: %s", strings.TrimSpace(short))
			if ok || !strings.Contains(short, "SIGNATURES NOT OK") || !strings.Contains(verbose, "NOKEY") {
				t.Errorf("rpm -K without the key (ok=%v):\n%s\n%s", ok, short, verbose)
			}

			// Tampered payload (last byte) and header (a byte of the
			// summary): rejected.
			orig, err := os.ReadFile(pkg)
			if err != nil {
				t.Fatal(err)
			}
			i := bytes.Index(orig, []byte("Greeting server"))
			if i < 0 {
				t.Fatal("summary not found in the rpm header")
			}
			for name, at := range map[string]int{"payload": len(orig) - 1, "header": i} {
				bad := append([]byte(nil), orig...)
				bad[at] ^= 0x20
				f := filepath.Join(t.TempDir(), "tampered.rpm")
				os.WriteFile(f, bad, 0o644)
				short, verbose, ok := rpmCheck(db, f)
				t.Logf("tampered %s: %s", name, strings.TrimSpace(verbose))
				if ok || strings.HasSuffix(strings.TrimSpace(short), "digests signatures OK") {
					t.Errorf("rpm -K accepted a package with a tampered %s:\n%s\n%s", name, short, verbose)
				}
			}
		})
	}
}

// arMembers parses an ar archive (a .deb) into its members, in order.
func arMembers(t *testing.T, data []byte) (names []string, members map[string][]byte) {
	t.Helper()
	if !bytes.HasPrefix(data, []byte("!<arch>\n")) {
		t.Fatal("not an ar archive")
	}
	members = map[string][]byte{}
	p := 8
	for p < len(data) {
		if p+60 > len(data) {
			t.Fatalf("truncated ar header at %d", p)
		}
		h := data[p : p+60]
		name := strings.TrimSuffix(strings.TrimSpace(string(h[0:16])), "/")
		size, err := strconv.Atoi(strings.TrimSpace(string(h[48:58])))
		if err != nil || p+60+size > len(data) {
			t.Fatalf("bad ar member size at %d", p)
		}
		names = append(names, name)
		members[name] = data[p+60 : p+60+size]
		p += 60 + size + size%2
	}
	return names, members
}

// verifyDebOrigin checks the _gpgorigin signature of a deb the way
// debsig-verify does: gpg over debian-binary + control.tar.* + data.tar.*,
// concatenated in archive order.
func verifyDebOrigin(t *testing.T, home string, deb []byte) (string, error) {
	t.Helper()
	names, m := arMembers(t, deb)
	sig, ok := m["_gpgorigin"]
	if !ok {
		t.Fatalf("no _gpgorigin member; members: %v", names)
	}
	var signed []byte
	for _, n := range names {
		if n == "debian-binary" || strings.HasPrefix(n, "control.tar") || strings.HasPrefix(n, "data.tar") {
			signed = append(signed, m[n]...)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "signed"), signed, 0o644)
	os.WriteFile(filepath.Join(dir, "_gpgorigin"), sig, 0o644)
	return signtest.Verify(home, filepath.Join(dir, "_gpgorigin"), filepath.Join(dir, "signed"))
}

func TestSignedDeb(t *testing.T) {
	testdeps.Tools(t, "dpkg-deb", "debsig-verify")
	for _, algo := range []string{"rsa3072", "ed25519"} {
		t.Run(algo, func(t *testing.T) {
			key, pubFile, g := signingKey(t, algo, signPassphrase)
			pkg, _ := writeFixturePackage(t, "deb", func(s *PackageSpec) { s.Signing = key })
			data, err := os.ReadFile(pkg)
			if err != nil {
				t.Fatal(err)
			}
			names, members := arMembers(t, data)
			if len(names) != 4 || names[0] != "debian-binary" || !strings.HasPrefix(names[1], "control.tar") ||
				!strings.HasPrefix(names[2], "data.tar") || names[3] != "_gpgorigin" {
				t.Fatalf("deb members %v, want debian-binary, control.tar.*, data.tar.*, _gpgorigin", names)
			}
			if !bytes.HasPrefix(members["_gpgorigin"], []byte("-----BEGIN PGP SIGNATURE-----")) {
				t.Errorf("_gpgorigin is not an armoured signature")
			}
			// dpkg ignores the signature member.
			run(t, nil, "dpkg-deb", "--info", pkg)
			run(t, nil, "dpkg-deb", "--contents", pkg)

			// gpg, over exactly what debsig-verify hashes.
			home := signtest.VerifierHome(t, pubFile)
			status, err := verifyDebOrigin(t, home, data)
			if err != nil || !strings.Contains(status, "VALIDSIG "+key.Fingerprint) {
				t.Fatalf("gpg rejected _gpgorigin (%v):\n%s", err, status)
			}

			// The real debsig-verify with a policy for the key.
			policies, keyrings := signtest.DebsigPolicy(t, key.KeyID, g.PublicBin)
			if out, code := signtest.DebsigVerify(policies, keyrings, pkg); code != 0 || !strings.Contains(out, "Verified package from 'relpack test key' (relpack-test)") {
				t.Fatalf("debsig-verify exit %d:\n%s", code, out)
			}
			// No policy for this key: exit 11 (origin has no policy dir).
			otherPol, otherKeys := signtest.DebsigPolicy(t, "0123456789ABCDEF", g.PublicBin)
			if out, code := signtest.DebsigVerify(otherPol, otherKeys, pkg); code != 11 {
				t.Errorf("debsig-verify without a policy for the key: exit %d, want 11:\n%s", code, out)
			}

			// Tampered data.tar member (its last byte): both reject.
			tampered := append([]byte(nil), data...)
			off := bytes.Index(tampered, members[names[2]]) + len(members[names[2]]) - 1
			tampered[off] ^= 0x01
			f := filepath.Join(t.TempDir(), "tampered.deb")
			os.WriteFile(f, tampered, 0o644)
			if status, err := verifyDebOrigin(t, home, tampered); err == nil || !strings.Contains(status, "BADSIG") {
				t.Errorf("gpg accepted a tampered deb (%v):\n%s", err, status)
			}
			if out, code := signtest.DebsigVerify(policies, keyrings, f); code != 13 {
				t.Errorf("debsig-verify on a tampered deb: exit %d, want 13 (verification failed):\n%s", code, out)
			}
		})
	}
}

// TestSignedReproducible: signatures are made at the spec's MTime with no
// random salt, so two signed builds are byte-identical, and the signature
// time is MTime (or the key's creation when MTime is older).
func TestSignedReproducible(t *testing.T) {
	testdeps.Tool(t, "rpm")
	key, pubFile, _ := signingKey(t, "rsa3072", signPassphrase)
	in := t.TempDir()
	if err := writeFixtureInputs(in, buildELF(t)); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	for _, format := range []string{"deb", "rpm"} {
		for _, mtime := range []time.Time{fixtureMTime, later} {
			spec := fixtureSpec(format, in)
			spec.MTime = mtime
			spec.Signing = key
			a, err := WritePackage(spec, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			b, err := WritePackage(spec, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			ab, _ := os.ReadFile(a)
			bb, _ := os.ReadFile(b)
			if !bytes.Equal(ab, bb) {
				t.Errorf("%s at %s: two signed builds differ", format, mtime.Format(time.RFC3339))
			}
			// The unsigned build is the signed one minus the signature:
			// signing does not touch what is signed.
			spec.Signing = nil
			u, err := WritePackage(spec, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			ub, _ := os.ReadFile(u)
			if format == "deb" && !bytes.HasPrefix(ab, ub) {
				t.Errorf("deb: the signed package does not start with the unsigned one")
			}
			var sig []byte
			if format == "deb" {
				_, m := arMembers(t, ab)
				sig = m["_gpgorigin"]
			} else {
				// Same main header and payload after the signature header.
				if !bytes.HasSuffix(ab, ub[len(ub)-4096:]) {
					t.Errorf("rpm: signed and unsigned payloads differ")
				}
				h := run(t, nil, "rpm", "--dbpath", rpmDB(t, pubFile), "-qp", "--qf", "%{RSAHEADER}", a)
				sig, err = hex.DecodeString(strings.TrimSpace(h))
				if err != nil {
					t.Fatalf("RSAHEADER is not hex: %v", err)
				}
			}
			created := sigCreated(t, sig)
			if mtime == later && created != later.Unix() {
				t.Errorf("%s signature made at %d, want MTime %d", format, created, later.Unix())
			}
			if mtime == fixtureMTime && created < fixtureMTime.Unix() {
				t.Errorf("%s signature made at %d, before MTime", format, created)
			}
		}
	}
}

var createdRE = regexp.MustCompile(`created (\d+)`)

// sigCreated returns the creation time of an OpenPGP signature, as gpg
// --list-packets reads it.
func sigCreated(t *testing.T, sig []byte) int64 {
	t.Helper()
	out, errOut, err := signtest.GPG(signtest.Home(t), sig, "--list-packets")
	m := createdRE.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("gpg --list-packets: %v\n%s%s", err, out, errOut)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}
