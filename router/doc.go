// Package router routes messages to handlers. A *Router is a bot.Handler:
// hand it to the bot runtime as net/http hands a ServeMux to a server.
//
// # Matchers
//
// A route is a Matcher and a handler. Matchers test the text (Command,
// Prefix, Suffix, Keyword, Full, Regex and their case-insensitive Fold
// variants), the message (ContentTypes, SessionTypes, SingleChat, GroupChat,
// From, InGroup, MentionsMe), arbitrary predicates (Func, Expr) and
// combinations (And, Or, Not, Any). A bad pattern, regex or expression is an
// error when the route is registered, with its position in the pattern and
// the registration site (file:line of the Handle call, or a Location given
// with the At option, for example a YAML file:line:column).
//
// Case-insensitive matchers compare Unicode simple case folds rune by rune
// (as regexp's (?i) does): "HELLO", "hello" and "Hello" are equal, and so are
// "k" and the Kelvin sign.
//
// # Precedence
//
// For every message the routes whose matchers match are considered in a fixed
// order: higher Priority first; then higher specificity (Full before
// Command before Prefix and Suffix before Keyword before Regex before Expr
// before attribute-only rules, longer literals first, see RouteInfo.Specificity);
// then registration order. The first matching route runs. A route is
// blocking by default: after it runs no lower route runs, unless its handler
// returns Continue (or an error wrapping it) or the route was registered with
// NonBlocking. When no route runs the NotFound handler (if any) runs.
//
// # Indexed dispatch
//
// The router does not test every rule on every message. Exact commands and
// full-text rules are looked up in maps, prefixes and suffixes in byte tries,
// keywords (and the literals every regex match must contain) in one
// Aho-Corasick automaton, and attribute rules (session type, content type,
// group, sender) in maps. Expr rules are indexed by the guards of their
// top-level conjunction (Text startsWith "…", Text == "…", Text contains "…",
// SessionType == n, ContentType == n, GroupID == "…", SenderID == "…").
// Only the routes an index names, plus the routes without any index guard,
// run their full check. The result is the same as testing every route in
// order (the LinearScan option does exactly that; tests check that both
// agree).
//
// # Concurrency
//
// A Router is safe for concurrent use: Handle, Trace, Routes and Analyze may
// be called from many goroutines, also while routes are being registered.
// Registration is copy-on-write: the index is rebuilt from the registered
// routes on the first message after a change (O(number of routes)), and
// messages in flight keep the index they started with. Register routes in
// bulk before starting the bot. To replace a whole routing table at once
// (a configuration reload), build a new Router and Swap it into a Live.
package router
