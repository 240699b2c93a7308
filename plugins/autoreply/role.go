package autoreply

import (
	"slices"

	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/router"
)

// WithSuperusers sets the superusers of rules with a role (usually
// Config.Permissions.Superusers); default none.
func WithSuperusers(userIDs ...string) Option {
	return func(p *Plugin) { p.superusers = slices.Clone(userIDs) }
}

// applyRole adds a rule's role: without deny it is one more condition
// (checked after the others, so only messages that would get a reply cost
// a role lookup); with deny, messages that meet the other conditions but
// not the role get the deny text.
func (p *Plugin) applyRole(r *config.Rule, c *rule, opts *[]router.RouteOption) error {
	if r.Role == "" {
		return nil
	}
	role, err := router.ParseRole(r.Role)
	if err != nil {
		return errAt(r, "role", "%v", err)
	}
	m := router.HasRole(role, p.superusers...)
	if r.Deny == "" {
		c.matcher = router.And(c.matcher, m)
		return nil
	}
	*opts = append(*opts, router.WithMiddleware(router.Require(m, r.Deny)))
	return nil
}
