// Package router routes messages to handlers. A *Router is a bot.Handler:
// hand it to the bot runtime as net/http hands a ServeMux to a server.
//
// # Matchers
//
// A route is a Matcher and a handler. Matchers test the text (Command,
// Prefix, Suffix, Keyword, Full, Regex and their case-insensitive Fold
// variants), the message (ContentTypes, SessionTypes, SingleChat, GroupChat,
// From, InGroup, MentionsMe, Notification), the sender's role in the group
// (GroupOwner, GroupAdmin, Superuser, HasRole; Require turns one into
// middleware that answers a denial), arbitrary predicates (Func, Expr) and
// combinations (And, Or, Not, Any). A bad pattern, regex or expression is an
// error when the route is registered, with its position in the pattern and
// the registration site (file:line of the On or OnFunc call, or a Location given
// with the At option, for example a YAML file:line:column).
//
// Case-insensitive matchers compare Unicode simple case folds rune by rune
// (as regexp's (?i) does): "HELLO", "hello" and "Hello" are equal, and so are
// "k" and the Kelvin sign.
//
// # Precedence
//
// For every message the routes whose matchers match are considered in a fixed
// order: higher Priority first; then higher specificity; then registration
// order. Specificity (RouteInfo.Specificity) is computed from the matcher:
//
//	Full                   5000 + length of the shortest text
//	Command                4000 + 10 × parameters + length of the name
//	Prefix, Suffix         3000 + length of the shortest literal
//	Keyword                2000 + length of the shortest word
//	Regex                  1000 + length of its required literal
//	Expr                   600 with an index guard, 500 without
//	From, InGroup          40
//	ContentTypes, MentionsMe, Notification 20
//	SessionTypes, SingleChat, GroupChat 10
//	Func, HasRole and its shorthands 5
//	Any, Not               0
//	And                    the sum of its parts; Or: the least of its parts
//
// (lengths in bytes, capped at 999). So a full-text rule runs before a
// command, a command before a prefix, and "weather {city}" before "weather".
// The first matching route runs. A route is blocking by default: after it
// runs no lower route runs, unless its handler returns Continue (or an error
// wrapping it) or the route was registered with NonBlocking. When no route
// runs, the NotFound handler (if any) runs.
//
// Router.Use middleware wraps the whole dispatch and runs once per message;
// Group.Use and WithMiddleware middleware wrap a route's handler and run
// only when it runs, after its parameters are set. Route parameters set for
// one route are reset to "" before a later (non-blocking) route runs.
//
// Analyze reports duplicate routes, routes that can never run because a
// blocking route above matches all their messages (for example a Prefix("/")
// above every command), routes that can match nothing (such as
// And(SingleChat(), GroupChat())), and Regex or Expr rules no index can
// select. Trace
// shows, for one message, the candidate routes, the index guard that chose
// each, whether it matched (and why not) and which ran.
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
