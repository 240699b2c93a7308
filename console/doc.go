// Package console is the bot's admin HTTP listener: Prometheus metrics on
// /metrics, liveness on /healthz, readiness on /readyz (200 when the bot is
// connected and caught up, 503 with the reason otherwise), and a web
// console — a single page whose HTML, CSS and JavaScript are embedded in
// the binary (no CDN, no build step) — to chat with the bot as any user
// through the embedded sandbox, see how each message was routed and why,
// and watch the routing table, its findings and live counters.
//
// Metrics is a bot.Observer: it counts at each step of a message's path
// with low-cardinality labels and reads the rest (duplicates, queue depth,
// connection state) from the bot when scraped. Server serves the
// endpoints; give it the Metrics, the bot's ID, the current router and, for
// the chat panel, the sandbox. Without a sandbox (a real OpenIM server) the
// chat panel is off and the inspection panels stay.
//
// The console imports bot, router, sandbox and content; nothing in the
// runtime imports it.
package console
