package config

import (
	"relpack/pkg/abi"
	"relpack/pkg/deps"
	"relpack/pkg/distro"
)

// Floor is the promised ABI floor.
type Floor struct {
	Glibc   string `yaml:"glibc"`
	GLIBCXX string `yaml:"glibcxx"`
	CXXABI  string `yaml:"cxxabi"`
	GCC     string `yaml:"gcc"`
}

// Policy returns the verification policy of the floor on arch (x86_64,
// aarch64): the C++ runtime and libgcc_s limits derived from the catalog's
// targets (distro.PolicyFor), with the floor's overrides.
func (f Floor) Policy(arch string) (abi.Policy, error) {
	return distro.PolicyFor(f.Glibc, arch, map[string]string{"GLIBCXX": f.GLIBCXX, "CXXABI": f.CXXABI, "GCC": f.GCC})
}

// PolicyArches are the architectures a floor is checked for when the
// configuration is loaded.
var PolicyArches = []string{"x86_64", "aarch64"}

// rawFloor is what the release promises of the systems it runs on.
type rawFloor struct {
	Floor Floor  `yaml:"floor"`
	Z3    string `yaml:"z3"`
}

// floor loads floor: (glibc required, its policy derivable on every
// architecture) and z3:. It adds Config.Floor and Config.Z3.
func (l *loader) floor() {
	c := l.c
	c.Floor, c.Z3 = l.r.Floor, l.r.Z3
	if c.Floor.Glibc == "" {
		l.fail("floor", "floor.glibc is required: the oldest glibc the release promises to run on (e.g. \"2.28\" for RHEL 8)")
	} else {
		// Every architecture relpack builds for: the limits differ per
		// arch, and a floor no target reaches fails on each alike.
		for _, arch := range PolicyArches {
			if _, err := c.Floor.Policy(arch); err != nil {
				l.fail("floor", "%v", err)
				break
			}
		}
	}
	switch c.Z3 {
	case "", deps.Z3Bundled, deps.Z3Unbundled:
	default:
		l.fail("z3", "z3 %q: use bundled or unbundled, or leave it out to accept what the binaries say", c.Z3)
	}
}
