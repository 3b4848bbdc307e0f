package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// MaxSize is the most bytes ReadSubject reads: an SBOM lists an
// artifact's files and components, some kilobytes to a few megabytes;
// 64 MiB is far past any real one and keeps a hostile file from
// exhausting memory.
const MaxSize = 64 << 20

// ReadSubject reads an SBOM relpack wrote (SPDX by the name's
// SPDXSuffix, CycloneDX by CycloneDXSuffix) and returns the artifact it
// describes: its file name and SHA-256. name is the SBOM's file name (a
// path is fine); the artifact's name must be the SBOM's name without the
// suffix, so an SBOM copied beside another artifact is refused.
// verify-release compares sha256 with the artifact it has.
func ReadSubject(name string, b []byte) (file, sha256 string, err error) {
	if len(b) > MaxSize {
		return "", "", fmt.Errorf("%s: %d bytes, more than the %d MiB an SBOM may have", name, len(b), MaxSize>>20)
	}
	base := path.Base(name)
	var want string
	switch {
	case strings.HasSuffix(base, SPDXSuffix):
		want = strings.TrimSuffix(base, SPDXSuffix)
		file, sha256, err = spdxSubject(b)
	case strings.HasSuffix(base, CycloneDXSuffix):
		want = strings.TrimSuffix(base, CycloneDXSuffix)
		file, sha256, err = cdxSubject(b)
	default:
		return "", "", fmt.Errorf("%s: not an SBOM relpack writes (its name ends neither in %s nor in %s)", name, SPDXSuffix, CycloneDXSuffix)
	}
	if err == nil {
		err = checkFileName(file)
	}
	if err == nil {
		err = checkHex("its artifact's sha256", sha256, 64)
	}
	if err == nil && file != want {
		return "", "", &OtherArtifactError{SBOM: name, Describes: file, Want: want}
	}
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", name, err)
	}
	return file, sha256, nil
}

// decodeStrict decodes one JSON value and nothing after it.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more after the JSON document")
	}
	return nil
}

// spdxSubject finds the package the document DESCRIBES (exactly one) and
// returns its packageFileName and SHA256 checksum.
func spdxSubject(b []byte) (file, sha256 string, err error) {
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
		SPDXID      string `json:"SPDXID"`
		Packages    []struct {
			SPDXID    string `json:"SPDXID"`
			FileName  string `json:"packageFileName"`
			Checksums []struct {
				Algorithm string `json:"algorithm"`
				Value     string `json:"checksumValue"`
			} `json:"checksums"`
		} `json:"packages"`
		Relationships []struct {
			A    string `json:"spdxElementId"`
			B    string `json:"relatedSpdxElement"`
			Type string `json:"relationshipType"`
		} `json:"relationships"`
	}
	if err := decodeStrict(b, &doc); err != nil {
		return "", "", err
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.SPDXID != "SPDXRef-DOCUMENT" {
		return "", "", fmt.Errorf("not an SPDX 2.3 document (spdxVersion %q, SPDXID %q)", doc.SPDXVersion, doc.SPDXID)
	}
	var described []string
	for _, r := range doc.Relationships {
		if r.A == "SPDXRef-DOCUMENT" && r.Type == "DESCRIBES" {
			described = append(described, r.B)
		}
	}
	if len(described) != 1 {
		return "", "", fmt.Errorf("the document describes %d elements, not the one artifact relpack writes", len(described))
	}
	for _, p := range doc.Packages {
		if p.SPDXID != described[0] {
			continue
		}
		for _, c := range p.Checksums {
			if c.Algorithm == "SHA256" {
				if sha256 != "" {
					return "", "", fmt.Errorf("the artifact %s has two SHA256 checksums", p.FileName)
				}
				sha256 = c.Value
			}
		}
		if sha256 == "" {
			return "", "", fmt.Errorf("the artifact %s has no SHA256 checksum", p.FileName)
		}
		return p.FileName, sha256, nil
	}
	return "", "", fmt.Errorf("the document describes %s, which is no package of it", described[0])
}

// cdxSubject reads metadata.component: its relpack:file property and
// its SHA-256 hash.
func cdxSubject(b []byte) (file, sha256 string, err error) {
	var bom struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
		Metadata    struct {
			Component *struct {
				Hashes []struct {
					Alg     string `json:"alg"`
					Content string `json:"content"`
				} `json:"hashes"`
				Properties []struct {
					Name  string `json:"name"`
					Value string `json:"value"`
				} `json:"properties"`
			} `json:"component"`
		} `json:"metadata"`
	}
	if err := decodeStrict(b, &bom); err != nil {
		return "", "", err
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion != "1.6" {
		return "", "", fmt.Errorf("not a CycloneDX 1.6 document (bomFormat %q, specVersion %q)", bom.BOMFormat, bom.SpecVersion)
	}
	c := bom.Metadata.Component
	if c == nil {
		return "", "", errors.New("no metadata.component: the document names no artifact")
	}
	for _, p := range c.Properties {
		if p.Name == PropFile {
			if file != "" {
				return "", "", fmt.Errorf("metadata.component has two %s properties", PropFile)
			}
			file = p.Value
		}
	}
	if file == "" {
		return "", "", fmt.Errorf("metadata.component has no %s property naming the artifact", PropFile)
	}
	for _, h := range c.Hashes {
		if h.Alg == "SHA-256" {
			if sha256 != "" {
				return "", "", fmt.Errorf("the artifact %s has two SHA-256 hashes", file)
			}
			sha256 = h.Content
		}
	}
	if sha256 == "" {
		return "", "", fmt.Errorf("the artifact %s has no SHA-256 hash", file)
	}
	return file, sha256, nil
}

// OtherArtifactError is an SBOM that describes another artifact than the
// one its name says (copied or moved beside another artifact).
type OtherArtifactError struct {
	SBOM      string // the SBOM's name as given
	Describes string // the artifact it describes
	Want      string // the artifact its name says
}

func (e *OtherArtifactError) Error() string {
	return fmt.Sprintf("%s: it describes %s, not %s", e.SBOM, e.Describes, e.Want)
}
