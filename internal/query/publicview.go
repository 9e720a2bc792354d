package query

// PublicView returns a Service over the same store that reads, per series, the newest
// approved revision only (store.Query.Published): the figures the public may see.
// Its roll-ups, progress, scoreboard and rankings are computed over published figures
// alone. Reporting completeness still counts what was received, approved or not, since
// it measures reporting rather than publishing. A Service from New already answers for
// the public; PublicView undoes a For.
func (s *Service) PublicView() *Service { return s.For(Audience{}) }

// IsPublicView reports whether the Service reads published figures only.
func (s *Service) IsPublicView() bool { return s.audience.public() }
