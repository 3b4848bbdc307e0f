package provenance

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"relpack/pkg/sign"
)

// Sign returns the ASCII-armoured detached OpenPGP signature of a
// statement (FileName + ".asc"), made by key at time at, as SHA256SUMS.asc
// is: `gpg --verify provenance.intoto.json.asc provenance.intoto.json`
// checks it with the release's KEY.asc. at is the release's
// SOURCE_DATE_EPOCH, so the same statement and key give the same bytes; a
// zero at is refused rather than read from the clock.
//
// There is no Verify here: pkg/sign only signs, and the check of a
// detached signature against a release's key (armoured or binary, expired
// keys, unknown issuers) lives in pkg/releaseverify, which verify-release
// uses for SHA256SUMS.asc and can use for this file too.
func Sign(key *sign.Key, statement []byte, at time.Time) ([]byte, error) {
	if key == nil {
		return nil, errors.New("provenance: signing the statement: no signing key")
	}
	if at.IsZero() {
		return nil, errors.New("provenance: signing the statement: no signing time; pass the release's SOURCE_DATE_EPOCH")
	}
	if len(statement) == 0 {
		return nil, errors.New("provenance: signing the statement: the statement is empty")
	}
	var buf bytes.Buffer
	if err := sign.DetachSignAt(key, bytes.NewReader(statement), &buf, at); err != nil {
		return nil, fmt.Errorf("provenance: signing the statement: %w", err)
	}
	return buf.Bytes(), nil
}
