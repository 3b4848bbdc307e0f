package sign

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
)

// ClearSignAt writes data as an OpenPGP clear-signed message (the form of
// an apt repository's InRelease) to w, signed with k at time at (normally
// SOURCE_DATE_EPOCH; a time before the key's creation is moved up to it,
// see signTime), so the same key, data and time give the same bytes, as
// with DetachSignAt.
//
// data is signed as text. One final newline of data is not part of the
// signed text but the line ending before the armour, which is how gpg
// --clearsign writes a file that ends in a newline: `gpg --verify` and
// apt's gpgv then check exactly the lines of data.
func ClearSignAt(k *Key, data []byte, w io.Writer, at time.Time) error {
	e, id, err := k.entityFor()
	if err != nil {
		return err
	}
	when := signTime(e, id, at)
	sk, ok := e.SigningKeyById(when, id)
	if !ok || sk.PrivateKey == nil {
		return fmt.Errorf("signing with %s: key %016X cannot sign at %s", k, id, when.Format(time.RFC3339))
	}
	// go-crypto's encoder always ends the text with a line ending of its
	// own before the armour; a newline left at the end of data would
	// become an extra, signed, empty line.
	data = bytes.TrimSuffix(data, []byte("\n"))
	var buf bytes.Buffer
	pw, err := clearsign.Encode(&buf, sk.PrivateKey, config(id, when))
	if err != nil {
		return fmt.Errorf("signing with %s: %w", k, err)
	}
	if _, err := pw.Write(data); err != nil {
		return fmt.Errorf("signing with %s: %w", k, err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("signing with %s: %w", k, err)
	}
	out, err := withChecksum(buf.Bytes())
	if err != nil {
		return fmt.Errorf("signing with %s: %w", k, err)
	}
	_, err = w.Write(out)
	return err
}

// withChecksum re-armours the signature block of a clear-signed message
// from go-crypto with the CRC-24 line and a final newline, the form gpg
// --clearsign writes. go-crypto's clear-signer leaves both out (the CRC is
// optional in RFC 9580), and gpg 2.2 then reads the END line as more
// radix-64 ("invalid radix64 character 2D skipped") and reports "no valid
// OpenPGP data found" after the good signature.
func withChecksum(msg []byte) ([]byte, error) {
	i := bytes.Index(msg, []byte("\n-----BEGIN PGP SIGNATURE-----"))
	if i < 0 {
		return nil, fmt.Errorf("clear-signed message without a signature block")
	}
	block, err := armor.Decode(bytes.NewReader(msg[i+1:]))
	if err != nil {
		return nil, err
	}
	sig, err := io.ReadAll(block.Body)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Write(msg[:i+1])
	aw, err := armor.Encode(&out, "PGP SIGNATURE", nil)
	if err != nil {
		return nil, err
	}
	if _, err := aw.Write(sig); err != nil {
		return nil, err
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
