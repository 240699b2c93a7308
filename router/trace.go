package router

import "github.com/openimbot/openimbot/bot"

// metricName is the name a route has in logs, metrics and the console (see
// bot.Context.Route): its Name, or its matcher when it has none. Both come
// from the program or the configuration, never from messages, so they make
// low-cardinality metric labels.
func (ri RouteInfo) metricName() string {
	if ri.Name != "" {
		return ri.Name
	}
	return ri.Matcher
}

// RouteName is the name of a route in logs and metrics: its Name, or its
// matcher when it has none. It is what the router records with
// bot.Context.SetRoute before running the route.
func RouteName(ri RouteInfo) string { return ri.metricName() }

// TraceAll is Trace over every route of the table, in precedence order, not
// only the candidates the indexes select: each step says whether the route
// matched and why not, and Via names the index guard that selected it or
// says "not selected by the index" (such a route is never tested by
// Handle; it is tested here to say why it does not match). Candidates
// counts the routes Handle would test. No handler runs.
func (r *Router) TraceAll(c *bot.Context) Trace {
	t := r.table()
	var idx Trace
	t.dispatch(c, &idx, false)
	if t.linear {
		return idx
	}
	lt := *t
	lt.linear = true
	var tr Trace
	lt.dispatch(c, &tr, false)
	via := make(map[int]string, len(idx.Steps))
	for _, s := range idx.Steps {
		via[s.Route.ID] = s.Via
	}
	for i := range tr.Steps {
		v, ok := via[tr.Steps[i].Route.ID]
		if !ok {
			v = "not selected by the index"
		}
		tr.Steps[i].Via = v
	}
	tr.Candidates = idx.Candidates
	return tr
}
