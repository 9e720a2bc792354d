package query

// PublicView returns a Service over the same store that reads, per series, the newest
// approved revision only (store.Query.Published): the figures the public may see.
// Its roll-ups, progress, scoreboard and rankings are computed over published figures
// alone. Reporting completeness still counts what was received, approved or not, since
// it measures reporting rather than publishing. The public pages use it.
func (s *Service) PublicView() *Service {
	c := *s
	c.published = true
	return &c
}

// IsPublicView reports whether the Service reads published figures only.
func (s *Service) IsPublicView() bool { return s.published }
