// Package autoreply is the plugin that answers messages from the rules of
// the configuration file: no Go code needed.
//
//	rules:
//	  - name: greet
//	    keyword: [hi, hello]
//	    reply: "Hello, {{.Sender}}!"
//	  - name: weather
//	    regex: '^weather in (?P<city>\w+)$'
//	    reply: "No idea about the weather in {{.city}}."
//	    cooldown: 1m
//
// # Conditions
//
// A rule matches when every condition it sets holds; a list condition holds
// when one of its items does. keyword (the text contains it), prefix, suffix
// and full (the whole text) ignore case unless the plugin's case_sensitive
// setting is true. regex is a Go regular expression searched in the text
// (anchor it with ^ and $; (?i) ignores case); its named groups become
// template data. command is a router command pattern such as
// "weather {city}" (a leading "/" is optional); its parameters become
// template data. expr is an expr-lang boolean expression over router.Env
// (Text, SenderID, GroupID, IsGroup, hour(), ...). content lists content
// types (text, picture, markdown, 101, ...); chat is single, group or any;
// users and groups list sender and group IDs; mentioned requires the bot to
// be @-mentioned. A rule with no condition matches every message.
//
// role restricts a rule to senders with a role in the message's group:
// owner, admin (the owner too) or superuser (the IDs of the top-level
// permissions.superusers, given to the plugin with WithSuperusers; they
// pass owner and admin rules as well). Roles are looked up through the
// bot's HTTP API, once per group until a group notification or the cache
// lifetime refreshes them. Without deny the role is one more condition;
// with deny, a message that meets the other conditions but not the role
// gets the deny text as reply:
//
//	permissions:
//	  superusers: [alice]
//	rules:
//	  - command: /ban {who}
//	    role: admin
//	    deny: Only group admins may ban.
//	    reply: "{{.who}} is banned."
//
// # Replies
//
// reply (plain text) or markdown is a text/template executed with a map
// holding Text, Sender (the sender's nickname, or ID), SenderID,
// SenderNickname, GroupID, ConversationID, SelfID, IsGroup, Args (command
// arguments), Params (all route parameters), Match (for regex rules: the
// whole match then every group), Message (*content.Message), and every route
// parameter by name ({{.city}}). Functions: upper, lower, trim, join,
// replace. quote: true quotes the message; at_sender: true @-mentions the
// sender in groups. A template that renders to nothing sends nothing.
// Templates are parsed, and executed once with sample data, when the rules
// are loaded: syntax errors, unknown keys and anything else that would fail
// on every message ({{call .Sender}}) are errors at file:line:col, not at
// reply time.
//
// # Precedence and cooldown
//
// Rules become router routes at their YAML position, with their priority
// (higher first, default 0); among equal priorities the router's
// specificity and then file order decide. After a rule replies, lower rules
// do not run unless it sets continue: true. cooldown is the minimum time
// between two replies of one rule in one conversation; a rule in its
// cooldown behaves as if it did not match.
//
// The plugin's own section takes case_sensitive (default false), cooldown
// (the default cooldown of rules that set none, default 0) and
// markdown_as_text (default false).
//
// # Markdown and OpenIM v3.8 clients
//
// A markdown reply is a message of content type 118, which the OpenIM v3.8
// SDKs (and so most OpenIM apps in use) do not know: they show it as an
// empty notification, that is not at all. markdown_as_text: true sends the
// rendered markdown as a plain text message instead; `openimbot check`
// notes every markdown rule while it is false.
//
// The plugin is safe for concurrent use by the router.
package autoreply
