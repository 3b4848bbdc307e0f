package release

import (
	"fmt"
	"maps"
	"slices"

	"relpack/pkg/abi"
	"relpack/pkg/config"
	"relpack/pkg/manifest"
)

// policySet is the floor's policy per architecture: the C++ runtime and
// libgcc_s limits derive from the catalog per arch (libgcc_s's GCC_ nodes
// differ), so each input is held to the policy of its machine.
type policySet map[string]abi.Policy

// floorPolicies derives the floor's policy for every architecture.
func floorPolicies(cfg *config.Config) (policySet, error) {
	ps := policySet{}
	for _, arch := range config.PolicyArches {
		p, err := cfg.Floor.Policy(arch)
		if err != nil {
			return nil, fmt.Errorf("%s: floor: %w", cfg.File, err)
		}
		ps[arch] = p
	}
	return ps, nil
}

// of is the policy an input of machine arch is held to.
func (ps policySet) of(arch string) abi.Policy {
	if p, ok := ps[arch]; ok {
		return p
	}
	// Unknown machines are refused by checkInput before any check; the
	// glibc floor is the same on every arch.
	return ps[config.PolicyArches[0]]
}

// Glibc is the glibc floor (the same on every arch).
func (ps policySet) Glibc() string { return ps.of(config.PolicyArches[0]).Glibc() }

// Covers is the floor's covers list (the same on every arch).
func (ps policySet) Covers() []string { return ps.of(config.PolicyArches[0]).Covers }

// manifest is the floor as manifest.json records it for the machines of
// inputs: families whose limit is the same on each of them in Families,
// the others per arch in Arches.
func (ps policySet) manifest(inputs []*Input) manifest.Floor {
	var arches []string
	for _, in := range inputs {
		if _, ok := ps[in.Machine]; ok && !slices.Contains(arches, in.Machine) {
			arches = append(arches, in.Machine)
		}
	}
	slices.Sort(arches)
	if len(arches) == 0 {
		arches = []string{config.PolicyArches[0]}
	}
	first := ps[arches[0]]
	f := manifest.Floor{Glibc: first.Glibc(), Policy: first.Name, Families: map[string]string{}, Covers: first.Covers}
	for _, fam := range slices.Sorted(maps.Keys(first.Families)) {
		same := true
		for _, a := range arches[1:] {
			same = same && ps[a].Families[fam] == first.Families[fam]
		}
		if same {
			f.Families[fam] = first.Families[fam]
			continue
		}
		for _, a := range arches {
			if v, ok := ps[a].Families[fam]; ok {
				if f.Arches == nil {
					f.Arches = map[string]map[string]string{}
				}
				if f.Arches[a] == nil {
					f.Arches[a] = map[string]string{}
				}
				f.Arches[a][fam] = v
			}
		}
	}
	return f
}
