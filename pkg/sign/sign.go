// Package sign makes the OpenPGP signatures of a release: the detached,
// ASCII-armoured signature of SHA256SUMS (SHA256SUMS.asc), and the signing
// functions pkg/pack hands to nfpm for deb (debsigs "origin") and rpm
// package signatures.
//
// The private key comes from a file or an environment variable; its
// passphrase only ever from the environment (RELPACK_SIGNING_PASSPHRASE),
// never from configuration or the command line. The key is unlocked when it
// is loaded, so a wrong or missing passphrase fails before anything is
// built. Errors name the key's source and the variable to set; they never
// contain key material or the passphrase.
//
// Signatures are deterministic: SHA-256, no random salt notation, and a
// creation time the caller chooses (pkg/pack uses the package's MTime, i.e.
// SOURCE_DATE_EPOCH). RSA (PKCS#1 v1.5) and EdDSA signatures carry no
// randomness, so the same key, data and time give the same bytes.
package sign

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"relpack/internal/regular"
)

// PassphraseEnv is the environment variable that holds the passphrase of
// an encrypted signing key.
const PassphraseEnv = "RELPACK_SIGNING_PASSPHRASE"

// Key is an OpenPGP signing key, unlocked.
//
// Armored and Passphrase are the secrets; the other fields are public
// facts for reports and the manifest. A Key prints as its fingerprint only
// (see String), so logging one by mistake leaks nothing.
type Key struct {
	// Armored is the ASCII-armoured private key (a binary key file is
	// armoured on load).
	Armored []byte
	// Passphrase unlocks Armored; empty for an unprotected key. Set only
	// from the environment.
	Passphrase string
	// Fingerprint of the primary key: 40 upper-case hex digits.
	Fingerprint string
	// KeyID is the 16-hex-digit (upper-case) ID of the key that makes the
	// signatures: the primary key when it may sign (the usual case, and
	// the one every rpm version verifies), else the newest signing subkey.
	KeyID string
	// UserID is the primary user ID, e.g. "Release Team <release@example.org>".
	UserID string

	source string          // "signing key file /x" or "environment variable X"
	entity *openpgp.Entity // the unlocked key; nil until first use
	signID uint64          // key ID to sign with
}

// String identifies the key without any secret: "OpenPGP key FPR (UserID)".
func (k Key) String() string {
	if k.UserID == "" {
		return "OpenPGP key " + k.Fingerprint
	}
	return fmt.Sprintf("OpenPGP key %s (%s)", k.Fingerprint, k.UserID)
}

// GoString keeps %#v from printing the key and passphrase.
func (k Key) GoString() string { return "sign.Key{" + k.String() + "}" }

// MarshalJSON writes only the public facts, so a Key that ends up in a
// JSON document (a manifest, a debug dump) carries no secret.
func (k Key) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Fingerprint string `json:"fingerprint"`
		KeyID       string `json:"key_id"`
		UserID      string `json:"user_id,omitempty"`
	}{k.Fingerprint, k.KeyID, k.UserID})
}

// MaxKeyFile is the largest signing key file LoadKey reads: an exported
// private key is a few kilobytes (an RSA 4096 key with subkeys about 10 KB),
// so a file past it is not a key, and reading it whole would cost memory
// for nothing.
const MaxKeyFile = 1 << 20

// LoadKey reads an OpenPGP private key from path, ASCII-armoured or
// binary (gpg --export-secret-keys [--armor] FINGERPRINT), and unlocks it
// with the passphrase in RELPACK_SIGNING_PASSPHRASE when it is protected.
// Only a regular file of at most MaxKeyFile bytes is read: a named pipe
// or a device (/dev/zero) is refused at once, naming the file, rather than
// blocking or filling memory.
func LoadKey(path string) (*Key, error) {
	if strings.Contains(path, "-----BEGIN") || strings.ContainsAny(path, "\n\r") {
		// Key material where a path belongs: never echo it.
		return nil, errors.New("the signing key file setting holds key material, not a path; put the key in a file (mode 0600) and give its path, or use an environment variable")
	}
	src := "signing key file " + path
	data, err := regular.ReadFile(path, MaxKeyFile, "an exported OpenPGP private key")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: %v", src, pe.Err)
		}
		// regular's errors name the path: "PATH is a named pipe, not a
		// regular file", "PATH is N bytes, more than ...".
		return nil, fmt.Errorf("signing key file %w; give the file gpg --export-secret-keys --armor FINGERPRINT wrote", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s is empty; put the private key in it: gpg --export-secret-keys --armor FINGERPRINT > FILE (mode 0600)", src)
	}
	return parseKey(data, os.Getenv(PassphraseEnv), src)
}

// LoadKeyContext is LoadKey that returns ctx's error as soon as ctx is
// done. Reading and unlocking a key cannot be stopped half-way (the
// passphrase's key derivation runs in go-crypto, and may be made slow on
// purpose), so it runs on its own goroutine, which is abandoned on
// cancellation: it writes nothing, and its result is dropped.
func LoadKeyContext(ctx context.Context, path string) (*Key, error) {
	return withContext(ctx, func() (*Key, error) { return LoadKey(path) })
}

// LoadKeyFromEnvContext is LoadKeyFromEnv that returns ctx's error as
// soon as ctx is done (see LoadKeyContext).
func LoadKeyFromEnvContext(ctx context.Context, name string) (*Key, error) {
	return withContext(ctx, func() (*Key, error) { return LoadKeyFromEnv(name) })
}

func withContext(ctx context.Context, load func() (*Key, error)) (*Key, error) {
	if ctx == nil {
		return load()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type result struct {
		k   *Key
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned load never blocks
	go func() {
		k, err := load()
		done <- result{k, err}
	}()
	select {
	case r := <-done:
		return r.k, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// LoadKeyFromEnv reads the ASCII-armoured private key held by the
// environment variable name (e.g. a CI secret), unlocking it with
// RELPACK_SIGNING_PASSPHRASE when it is protected.
func LoadKeyFromEnv(name string) (*Key, error) {
	src := "environment variable " + name
	if name == PassphraseEnv {
		return nil, fmt.Errorf("%s holds the passphrase, not the key; name the variable that holds the armoured private key", src)
	}
	v, ok := os.LookupEnv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return nil, fmt.Errorf("%s is not set or empty; set it to the armoured private key (gpg --export-secret-keys --armor FINGERPRINT)", src)
	}
	if !strings.Contains(v, "-----BEGIN PGP") {
		// A path put here by mistake, or a mangled secret. Say so without
		// echoing the value.
		return nil, fmt.Errorf("%s does not hold an ASCII-armoured OpenPGP private key block; set it to the output of gpg --export-secret-keys --armor FINGERPRINT, or, to use a key file, give its path instead", src)
	}
	return parseKey([]byte(v), os.Getenv(PassphraseEnv), src)
}

// parseKey decodes, checks and unlocks a private key. src names where it
// came from, for errors.
func parseKey(data []byte, passphrase, src string) (*Key, error) {
	armored := bytes.Contains(data, []byte("-----BEGIN PGP"))
	var (
		list openpgp.EntityList
		err  error
	)
	if armored {
		list, err = ReadArmoredKeys(data)
	} else {
		list, err = openpgp.ReadKeyRing(bytes.NewReader(data))
	}
	if err != nil {
		// go-crypto's messages describe the structure ("armor: invalid
		// data", "unexpected EOF"), never the content.
		return nil, fmt.Errorf("%s is not a readable OpenPGP private key (%v); export it with: gpg --export-secret-keys --armor FINGERPRINT", src, err)
	}
	var secret []*openpgp.Entity
	for _, e := range list {
		if e.PrivateKey != nil {
			secret = append(secret, e)
		}
	}
	switch {
	case len(secret) == 0:
		return nil, fmt.Errorf("%s holds only a public key; export the private key with: gpg --export-secret-keys --armor FINGERPRINT", src)
	case len(secret) > 1:
		fprs := make([]string, len(secret))
		for i, e := range secret {
			fprs[i] = fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
		}
		return nil, fmt.Errorf("%s holds %d private keys (%s); export only the signing key", src, len(secret), strings.Join(fprs, ", "))
	}
	e := secret[0]
	fpr := fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
	if v := e.PrimaryKey.Version; v != 4 {
		return nil, fmt.Errorf("%s: key %s is an OpenPGP v%d key; rpm before 4.20, dpkg tooling and gpg 2.2 verify only v4 keys, so use a v4 key", src, fpr, v)
	}

	if err := unlock(e, passphrase, src); err != nil {
		return nil, err
	}

	now := time.Now()
	signKey, ok := pickSigningKey(e, now)
	if !ok {
		return nil, fmt.Errorf("%s: key %s has no usable signing key at %s (expired, revoked, or no key with the sign capability); extend its expiry (gpg --quick-set-expire) or use another key", src, fpr, now.UTC().Format(time.RFC3339))
	}
	if signKey.PrivateKey == nil || signKey.PrivateKey.Dummy() {
		return nil, fmt.Errorf("%s: the secret part of signing key %016X is not in the export (a stub from gpg --export-secret-subkeys or a smartcard key?); export a key whose signing key is present", src, signKey.PublicKey.KeyId)
	}

	if !armored {
		var buf bytes.Buffer
		w, err := armor.Encode(&buf, openpgp.PrivateKeyType, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		if _, err := w.Write(data); err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		data = buf.Bytes()
	}
	k := &Key{
		Armored:     data,
		Passphrase:  passphrase,
		Fingerprint: fpr,
		KeyID:       fmt.Sprintf("%016X", signKey.PublicKey.KeyId),
		source:      src,
		entity:      e,
		signID:      signKey.PublicKey.KeyId,
	}
	if id := e.PrimaryIdentity(); id != nil {
		k.UserID = id.Name
	}
	return k, nil
}

// ReadArmoredKeys reads the keys of every armoured block of data (a file
// may hold several keys one after the other; go-crypto's
// ReadArmoredKeyRing reads only the first, which would pick a key
// silently). A block that is not a key, or no key at all, is an error.
func ReadArmoredKeys(data []byte) (openpgp.EntityList, error) {
	var list openpgp.EntityList
	r := bytes.NewReader(data)
	for {
		block, err := armor.Decode(r)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if block.Type != openpgp.PrivateKeyType && block.Type != openpgp.PublicKeyType {
			return nil, fmt.Errorf("armour block of type %q, not a key", block.Type)
		}
		el, err := openpgp.ReadKeyRing(block.Body)
		if err != nil {
			return nil, err
		}
		list = append(list, el...)
	}
	if len(list) == 0 {
		return nil, errors.New("no key in the armour")
	}
	return list, nil
}

// unlock decrypts every encrypted secret key of e (primary and subkeys).
func unlock(e *openpgp.Entity, passphrase, src string) error {
	keys := []*packet.PrivateKey{e.PrivateKey}
	for _, sk := range e.Subkeys {
		keys = append(keys, sk.PrivateKey)
	}
	for _, pk := range keys {
		if pk == nil || pk.Dummy() || !pk.Encrypted {
			continue
		}
		if passphrase == "" {
			return fmt.Errorf("%s is protected by a passphrase; set %s to it (from a CI secret, never in the config or on the command line)", src, PassphraseEnv)
		}
		if err := pk.Decrypt([]byte(passphrase)); err != nil {
			// The error of Decrypt says "private key checksum failure"
			// or similar; it never holds the passphrase, but a fixed
			// message is clearer.
			return fmt.Errorf("%s: the passphrase in %s does not unlock the key (wrong passphrase?)", src, PassphraseEnv)
		}
	}
	return nil
}

// pickSigningKey returns the key that makes signatures at time now: the
// primary key when its self-signature allows signing, else the newest
// valid signing subkey. The primary comes first because rpm 4.14 (EL8)
// finds keys to verify with by the primary's key ID reliably, and gpg
// --quick-gen-key ... sign, like most release keys, has no subkey.
func pickSigningKey(e *openpgp.Entity, now time.Time) (openpgp.Key, bool) {
	if k, ok := e.SigningKeyById(now, e.PrimaryKey.KeyId); ok {
		return k, true
	}
	return e.SigningKeyById(now, 0)
}

// entityFor returns the unlocked key of k. A Key from LoadKey carries it;
// one built by hand (Armored + Passphrase) is parsed and unlocked on every
// call, never cached, so that a Key shared by the goroutines writing
// packages in parallel is only ever read.
func (k *Key) entityFor() (*openpgp.Entity, uint64, error) {
	if k == nil {
		return nil, 0, errors.New("no signing key")
	}
	if k.entity != nil {
		return k.entity, k.signID, nil
	}
	src := k.source
	if src == "" {
		src = "signing key " + k.Fingerprint
	}
	parsed, err := parseKey(k.Armored, k.Passphrase, src)
	if err != nil {
		return nil, 0, err
	}
	return parsed.entity, parsed.signID, nil
}

// signTime is the creation time of a signature asked for at t: t itself,
// or, when t is before the signing key (or its self-signature) was made,
// that moment instead. A signature older than its key is rejected by gpg
// ("key is newer than the signature") and by go-crypto, and clamping keeps
// the time a pure function of (t, key), so signing stays reproducible.
// A zero t means now.
func signTime(e *openpgp.Entity, id uint64, t time.Time) time.Time {
	if t.IsZero() {
		return time.Now().UTC().Truncate(time.Second)
	}
	t = t.UTC().Truncate(time.Second)
	floor := e.PrimaryKey.CreationTime
	later := func(x time.Time) {
		if x.After(floor) {
			floor = x
		}
	}
	if sig, _ := e.PrimarySelfSignature(); sig != nil {
		later(sig.CreationTime)
	}
	for _, sk := range e.Subkeys {
		if sk.PublicKey.KeyId == id && id != e.PrimaryKey.KeyId {
			later(sk.PublicKey.CreationTime)
			if sk.Sig != nil {
				later(sk.Sig.CreationTime)
			}
		}
	}
	if t.Before(floor) {
		return floor.UTC().Truncate(time.Second)
	}
	return t
}

// config is the go-crypto signing configuration: SHA-256, the chosen key
// and time, and nothing random.
func config(id uint64, at time.Time) *packet.Config {
	no := false
	return &packet.Config{
		DefaultHash:  crypto.SHA256,
		SigningKeyId: id,
		Time:         func() time.Time { return at },
		// go-crypto adds a random "salt@notations.openpgpjs.org"
		// notation to every v4 signature by default, which makes two
		// signatures of the same data differ. RSA PKCS#1 v1.5 and EdDSA
		// need no randomness, so leave it out: signed builds then stay
		// byte-reproducible.
		NonDeterministicSignaturesViaNotation: &no,
		// Write the creation time subpacket non-critical, as gpg does.
		// go-crypto marks it critical by default; rpm's own OpenPGP
		// parser before 4.17 (EL8's 4.14, EL9's 4.16) rejects
		// signatures with critical subpackets it does not handle, the
		// bug behind go-crypto issue #263 and nfpm's broken signatures
		// on rpm <= 4.16. With this, the signature has no critical
		// subpacket at all.
		InsecureGenerateNonCriticalSignatureCreationTime: true,
	}
}

func detachSign(k *Key, data io.Reader, w io.Writer, at time.Time, armored bool) error {
	e, id, err := k.entityFor()
	if err != nil {
		return err
	}
	cfg := config(id, signTime(e, id, at))
	if armored {
		err = openpgp.ArmoredDetachSign(w, e, data, cfg)
	} else {
		err = openpgp.DetachSign(w, e, data, cfg)
	}
	if err != nil {
		return fmt.Errorf("signing with %s: %w", k, err)
	}
	return nil
}

// DetachSign writes an ASCII-armoured detached SHA-256 signature of data to
// w, made now; `gpg --verify FILE.asc FILE` checks it once the public key
// (PublicKey) is imported.
func DetachSign(k *Key, data io.Reader, w io.Writer) error {
	return detachSign(k, data, w, time.Time{}, true)
}

// DetachSignAt is DetachSign with the signature creation time set to at
// (normally SOURCE_DATE_EPOCH), so the same inputs give the same bytes. A
// time before the key's creation is moved up to it (see signTime).
func DetachSignAt(k *Key, data io.Reader, w io.Writer, at time.Time) error {
	return detachSign(k, data, w, at, true)
}

// SignFunc returns a signing function in the shape nfpm's
// PackageSignature.SignFn takes: it signs everything it reads and returns
// a detached signature made at time at, ASCII-armoured or binary. nfpm's
// deb signer (debsigs _gpgorigin) takes armoured signatures, its rpm
// signer (rpmpack's header tags) binary ones.
func SignFunc(k *Key, at time.Time, armored bool) func(io.Reader) ([]byte, error) {
	return func(data io.Reader) ([]byte, error) {
		var buf bytes.Buffer
		if err := detachSign(k, data, &buf, at, armored); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
}

// PublicKey returns the ASCII-armoured public key (primary key, user IDs,
// subkeys and their signatures; no secret material), for publishing next
// to the release as KEY.asc and for `rpm --import` / `gpg --import`.
func PublicKey(k *Key) ([]byte, error) {
	e, _, err := k.entityFor()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, err
	}
	if err := e.Serialize(w); err != nil {
		return nil, fmt.Errorf("exporting the public key of %s: %w", k, err)
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
