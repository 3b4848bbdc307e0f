package releaseverify

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/ProtonMail/go-crypto/openpgp"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"

	"relpack/internal/regular"
	"relpack/pkg/sign"
)

// ReadPublicKey reads the public key a release must be signed by from a
// file (relpack verify-release --key): armoured (KEY.asc, gpg --export
// --armor) or binary (gpg --export).
func ReadPublicKey(path string) (openpgp.EntityList, error) {
	b, err := regular.ReadFile(path, maxKey, "a public key")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist; give the publisher's public key file (their KEY.asc, from a source you trust)", path)
	}
	if err != nil {
		return nil, err
	}
	return ParsePublicKey(b, path)
}

// ParsePublicKey parses a public key (or several) from b; src names it
// for errors. A private key is refused: verifying needs only the public
// part, and a secret key file should not be passed around.
func ParsePublicKey(b []byte, src string) (openpgp.EntityList, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("%s is empty; give the armoured public key (KEY.asc, gpg --export --armor FINGERPRINT)", src)
	}
	var (
		kr  openpgp.EntityList
		err error
	)
	if bytes.Contains(b, []byte("-----BEGIN PGP")) {
		kr, err = sign.ReadArmoredKeys(b)
	} else {
		kr, err = openpgp.ReadKeyRing(bytes.NewReader(b))
	}
	if err != nil {
		return nil, fmt.Errorf("%s is not a readable OpenPGP public key (%v); give KEY.asc or the output of gpg --export --armor FINGERPRINT", src, err)
	}
	if len(kr) == 0 {
		return nil, fmt.Errorf("%s holds no key; give KEY.asc or the output of gpg --export --armor FINGERPRINT", src)
	}
	for _, e := range kr {
		if e.PrivateKey != nil {
			return nil, fmt.Errorf("%s holds a private key; give only the public key (gpg --export --armor FINGERPRINT), and keep the private one out of reach", src)
		}
	}
	return kr, nil
}

// PublicKeyring is the public part of a signing key (packaging.yaml's
// signing: key, for relpack repo and merge), as the keyring that checks a
// release.
func PublicKeyring(k *sign.Key) (openpgp.EntityList, error) {
	pub, err := sign.PublicKey(k)
	if err != nil {
		return nil, err
	}
	return ParsePublicKey(pub, "the public part of "+k.String())
}

// checkDetached checks a detached signature (armoured or binary) of
// signed by a key of kr, and returns the signer's fingerprint and user
// ID. A key that has expired since, or a signature past its expiry, is
// still a good signature of the data (gpgv says so too); a revoked key or
// an unknown critical notation is not.
func checkDetached(kr openpgp.EntityList, signed io.Reader, sig []byte, armored bool) (string, string, error) {
	var (
		e   *openpgp.Entity
		err error
	)
	if armored {
		e, err = openpgp.CheckArmoredDetachedSignature(kr, signed, bytes.NewReader(sig), nil)
	} else {
		e, err = openpgp.CheckDetachedSignature(kr, signed, bytes.NewReader(sig), nil)
	}
	if err != nil && !(e != nil && (errors.Is(err, pgperrors.ErrKeyExpired) || errors.Is(err, pgperrors.ErrSignatureExpired))) {
		if errors.Is(err, pgperrors.ErrUnknownIssuer) {
			return "", "", errors.New("made by a key other than this one")
		}
		return "", "", err
	}
	uid := ""
	if id := e.PrimaryIdentity(); id != nil {
		uid = id.Name
	}
	return fmt.Sprintf("%X", e.PrimaryKey.Fingerprint), uid, nil
}
