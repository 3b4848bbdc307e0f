package release

import (
	"fmt"
	"time"

	"relpack/pkg/config"
	"relpack/pkg/distro"
	"relpack/pkg/manifest"
)

// supportOf is the manifest's record of d's support window, nil when the
// catalogue records none.
func supportOf(d distro.Distro) *manifest.Support {
	s := d.Support
	if s.Regular == "" && s.End == "" && !s.EndedUndated {
		return nil
	}
	return &manifest.Support{Regular: s.Regular, End: s.End, Kind: s.Kind, Ended: s.EndedUndated}
}

// supportWarnings names the targets whose support ended before now: their
// packages still build (a product may owe its users a last release there),
// but nobody fixes the distro under them any more.
func supportWarnings(cfg *config.Config, now time.Time) []string {
	var out []string
	for _, t := range cfg.Targets {
		s := t.Support
		if !s.Ended(now) {
			continue
		}
		kind := s.Kind
		if kind == "" {
			kind = "support"
		}
		when := "on " + s.End
		if s.End == "" {
			when = "(its publisher's rule; no source gives the day)"
		}
		out = append(out, fmt.Sprintf("target %s (%s:%d): %s's %s ended %s; its publisher no longer fixes it (source: %s). Drop the target when your users have moved on",
			t.ID, cfg.File, cfg.LineOfTarget(t.ID), t.Name, kind, when, s.Source))
	}
	return out
}
