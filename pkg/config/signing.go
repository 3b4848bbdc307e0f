package config

import "strings"

// Signing says where the release signing key comes from: a file or an
// environment variable, never the key itself. The passphrase is read from
// RELPACK_SIGNING_PASSPHRASE only; the file has no place for it.
type Signing struct {
	// KeyFile is the armoured (or binary) private key; relative paths
	// start at packaging.yaml's directory.
	KeyFile string `yaml:"key_file"`
	// KeyEnv names the environment variable holding the armoured key.
	KeyEnv string `yaml:"key_env"`
}

type rawSigning struct {
	Signing *Signing `yaml:"signing"`
}

// signing loads signing: (key_file or key_env, never key material). It
// adds Config.Signing, left nil when the section is absent or wrong.
func (l *loader) signing() {
	sg := l.r.Signing
	if sg == nil {
		return
	}
	switch {
	case sg.KeyFile != "" && sg.KeyEnv != "":
		l.fail("signing", "signing: give key_file or key_env, not both")
	case sg.KeyFile == "" && sg.KeyEnv == "":
		l.fail("signing", "signing: give key_file (path of the private key) or key_env (name of the environment variable holding it); the passphrase comes only from RELPACK_SIGNING_PASSPHRASE")
	case strings.Contains(sg.KeyFile+sg.KeyEnv, "BEGIN PGP") || strings.ContainsAny(sg.KeyFile+sg.KeyEnv, "\n\r"):
		// Never echo what looks like key material.
		l.fail("signing", "signing: key material does not belong in packaging.yaml; put the key in a file or a CI secret and give its path (key_file) or variable name (key_env)")
	case sg.KeyEnv != "" && !envNameRE.MatchString(sg.KeyEnv):
		l.fail("signing.key_env", "signing.key_env must be the name of an environment variable (letters, digits, _), e.g. RELPACK_SIGNING_KEY")
	default:
		l.c.Signing = &Signing{KeyEnv: sg.KeyEnv}
		if sg.KeyFile != "" {
			l.c.Signing.KeyFile = l.c.abs(sg.KeyFile)
		}
	}
}
