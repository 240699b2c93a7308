package autoreply

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/plugins"
	"github.com/openimbot/openimbot/router"
)

// Name is the plugin's name.
const Name = "autoreply"

// Option configures the plugin.
type Option func(*Plugin)

// WithClock sets the clock used for cooldowns; default time.Now.
func WithClock(now func() time.Time) Option { return func(p *Plugin) { p.now = now } }

// Plugin is the autoreply plugin. Build it with New.
type Plugin struct {
	rules      []config.Rule
	now        func() time.Time
	superusers []string // role.go
}

var _ plugins.Plugin = (*Plugin)(nil)

// New returns the plugin for rules (usually Config.Rules).
func New(rules []config.Rule, opts ...Option) *Plugin {
	p := &Plugin{rules: rules, now: time.Now}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Name returns "autoreply".
func (p *Plugin) Name() string { return Name }

type settings struct {
	CaseSensitive bool          `yaml:"case_sensitive"`
	Cooldown      time.Duration `yaml:"cooldown"`
	// MarkdownAsText sends the replies of markdown rules as plain text
	// (content type 101): clients on the OpenIM v3.8 SDKs do not know the
	// markdown type (118) and show nothing for it.
	MarkdownAsText bool `yaml:"markdown_as_text"`
}

// MarkdownAsText reports whether the plugin's configuration section sends
// markdown replies as text (markdown_as_text: true). A section that does
// not decode gives false.
func MarkdownAsText(section config.Node) bool {
	var set settings
	return section.Decode(&set) == nil && set.MarkdownAsText
}

// Setup compiles every rule and registers it on h.Router. Every invalid rule
// is reported, each at its file:line:col, in a config.Errors.
func (p *Plugin) Setup(h plugins.Host) error {
	var set settings
	if err := h.Config.Decode(&set); err != nil {
		return err
	}
	var errs config.Errors
	add := func(err error) {
		var ce config.Errors
		if errors.As(err, &ce) {
			errs = append(errs, ce...)
		}
	}
	for i := range p.rules {
		r := &p.rules[i]
		c, err := compile(r, set, p.now)
		if err != nil {
			add(err)
			continue
		}
		opts := []router.RouteOption{
			router.Priority(r.Priority),
			router.Name(r.Name),
			router.Description(r.Description),
			router.At(router.Location{File: r.Pos.File, Line: r.Pos.Line, Column: r.Pos.Col}),
		}
		if r.Continue {
			opts = append(opts, router.NonBlocking())
		}
		if err := p.applyRole(r, c, &opts); err != nil {
			add(err)
			continue
		}
		if err := h.Router.On(c.matcher, c, opts...); err != nil {
			add(ruleError(r, err))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// rule is one compiled rule; it is the route's handler.
type rule struct {
	src      *config.Rule
	matcher  router.Matcher
	tmpl     *template.Template
	markdown bool
	asText   bool // send markdown as text
	re       *regexp.Regexp
	cooldown time.Duration
	now      func() time.Time

	mu   sync.Mutex
	last map[string]time.Time // conversation -> last reply
}

func errAt(r *config.Rule, key, format string, args ...any) error {
	return config.Errorf(r.PosOf(key), "rule %q: %s", r.Name, fmt.Sprintf(format, args...))
}

// ruleError turns a router registration error into an error at the key of
// the rule it comes from.
func ruleError(r *config.Rule, err error) error {
	var pe *router.PatternError
	if !errors.As(err, &pe) {
		return errAt(r, "", "%v", err)
	}
	key := pe.Kind
	if !r.Has(key) {
		key = ""
	}
	msg := "invalid " + pe.Kind
	if pe.Pattern != "" {
		msg += " " + strconv.Quote(pe.Pattern)
	}
	if pe.Line > 0 {
		msg += fmt.Sprintf(" at %d:%d", pe.Line, pe.Column)
	}
	return errAt(r, key, "%s: %s", msg, pe.Msg)
}

func compile(r *config.Rule, set settings, now func() time.Time) (*rule, error) {
	var errs config.Errors
	fail := func(err error) {
		var ce config.Errors
		if errors.As(err, &ce) {
			errs = append(errs, ce...)
		}
	}
	c := &rule{src: r, cooldown: r.Cooldown, now: now, last: make(map[string]time.Time), asText: set.MarkdownAsText}
	if !r.Has("cooldown") {
		c.cooldown = set.Cooldown
	}
	fold := !set.CaseSensitive
	var ms []router.Matcher
	text := func(plain, folded func(...string) router.Matcher, vals []string) {
		if len(vals) == 0 {
			return
		}
		if fold {
			ms = append(ms, folded(vals...))
		} else {
			ms = append(ms, plain(vals...))
		}
	}
	text(router.Keyword, router.KeywordFold, r.Keyword)
	text(router.Prefix, router.PrefixFold, r.Prefix)
	text(router.Suffix, router.SuffixFold, r.Suffix)
	text(router.Full, router.FullFold, r.Full)
	sample := map[string]any{}
	if r.Regex != "" {
		ms = append(ms, router.Regex(r.Regex))
		if re, err := regexp.Compile(r.Regex); err == nil {
			c.re = re
			sample["Match"] = make([]string, re.NumSubexp()+1)
			for _, n := range re.SubexpNames() {
				if n != "" {
					sample[n] = ""
				}
			}
		}
	}
	if r.Command != "" {
		pattern := strings.TrimPrefix(strings.TrimSpace(r.Command), "/")
		ms = append(ms, router.Command(pattern))
		for _, n := range commandParams(pattern) {
			sample[n] = ""
		}
	}
	if r.Expr != "" {
		ms = append(ms, router.Expr(r.Expr))
	}
	if len(r.Content) > 0 {
		var ts []content.ContentType
		for _, s := range r.Content {
			t, ok := content.ParseContentType(s)
			if !ok {
				fail(errAt(r, "content", "unknown content type %q (use a name such as text, picture, markdown or a number such as 101)", s))
				continue
			}
			ts = append(ts, t)
		}
		ms = append(ms, router.ContentTypes(ts...))
	}
	switch r.Chat {
	case "single":
		ms = append(ms, router.SingleChat())
	case "group":
		ms = append(ms, router.GroupChat())
	}
	if len(r.Users) > 0 {
		ms = append(ms, router.From(r.Users...))
	}
	if len(r.Groups) > 0 {
		ms = append(ms, router.InGroup(r.Groups...))
	}
	if r.Mentioned {
		ms = append(ms, router.MentionsMe())
	}
	switch len(ms) {
	case 0:
		c.matcher = router.Any()
	case 1:
		c.matcher = ms[0]
	default:
		c.matcher = router.And(ms...)
	}

	key, src := "reply", r.Reply
	if r.Markdown != "" {
		key, src, c.markdown = "markdown", r.Markdown, true
	}
	switch {
	case r.Quote && r.AtSender:
		fail(errAt(r, "at_sender", "quote and at_sender cannot be combined"))
	case c.markdown && (r.Quote || r.AtSender):
		fail(errAt(r, "markdown", "a markdown reply cannot quote or @-mention; use reply"))
	}
	tmpl, err := template.New(r.Name).Option("missingkey=error").Funcs(funcs).Parse(src)
	if err != nil {
		fail(errAt(r, key, "%s", templateMsg(err)))
	} else {
		c.tmpl = tmpl
		// A dry run with sample data catches now, rather than on every
		// message, what fails whatever the message: unknown keys, calling a
		// value that is not a function, wrong argument types. Only errors
		// that depend on the message (an index out of range, a nil pointer
		// the sample has and a real message may not) are left to reply time.
		data := sampleData(sample)
		if err := tmpl.Execute(discard{}, data); err != nil && !dependsOnMessage(err) {
			msg := templateMsg(err)
			if strings.Contains(msg, "map has no entry for key") || strings.Contains(msg, "can't evaluate field") {
				msg += " (known keys: " + strings.Join(keys(data), ", ") + ")"
			}
			fail(errAt(r, key, "%s", msg))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// dependsOnMessage reports whether a template execution error of the
// sample run may not happen with a real message.
func dependsOnMessage(err error) bool {
	s := err.Error()
	for _, frag := range []string{"out of range", "error calling index", "error calling slice", "nil pointer evaluating", "nil data", "invalid memory address"} {
		if strings.Contains(s, frag) {
			return true
		}
	}
	return false
}

// templateMsg strips the "template: name:" prefix, which repeats the rule
// name, keeping the line and column inside the template.
func templateMsg(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "template: ")
	return "template: " + s
}

// commandParams returns the parameter names of a command pattern:
// "weather {city} {days:int?}" gives city and days.
func commandParams(pattern string) []string {
	var out []string
	for _, f := range strings.Fields(pattern) {
		if !strings.HasPrefix(f, "{") {
			continue
		}
		n := strings.TrimPrefix(f, "{")
		if i := strings.IndexAny(n, ":.?}"); i >= 0 {
			n = n[:i]
		}
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

var funcs = template.FuncMap{
	"upper":   strings.ToUpper,
	"lower":   strings.ToLower,
	"trim":    strings.TrimSpace,
	"join":    strings.Join,
	"replace": strings.ReplaceAll,
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func sampleData(params map[string]any) map[string]any {
	d := map[string]any{
		"Text": "", "Sender": "", "SenderID": "", "SenderNickname": "", "GroupID": "",
		"ConversationID": "", "SelfID": "", "IsGroup": false, "Args": []string(nil),
		"Params": map[string]string{}, "Match": []string(nil), "Message": &content.Message{},
	}
	for k, v := range params {
		if _, builtin := d[k]; !builtin {
			d[k] = v
		}
	}
	if m, ok := params["Match"]; ok {
		d["Match"] = m
	}
	return d
}

func keys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

// Handle replies to a message that matched the rule.
func (c *rule) Handle(ctx *bot.Context) error {
	conv := ctx.ConversationID()
	if c.cooldown > 0 {
		now := c.now()
		c.mu.Lock()
		if t, ok := c.last[conv]; ok && now.Sub(t) < c.cooldown {
			c.mu.Unlock()
			return router.Continue // in cooldown: as if the rule did not match
		}
		c.last[conv] = now
		if len(c.last) > 4096 {
			for k, t := range c.last {
				if now.Sub(t) >= c.cooldown {
					delete(c.last, k)
				}
			}
		}
		c.mu.Unlock()
	}
	var b strings.Builder
	if err := c.tmpl.Execute(&b, c.data(ctx)); err != nil {
		return fmt.Errorf("autoreply: rule %q (%s): %w", c.src.Name, c.src.Pos, err)
	}
	text := b.String()
	if strings.TrimSpace(text) == "" {
		return nil
	}
	var err error
	switch {
	case c.markdown && !c.asText:
		err = ctx.Send(ctx.ReplyTarget(), content.NewMarkdown(text))
	case c.src.Quote:
		err = ctx.ReplyQuote(text)
	case c.src.AtSender:
		err = ctx.ReplyMention(text)
	default:
		err = ctx.Reply(text)
	}
	if err != nil {
		return fmt.Errorf("autoreply: rule %q: reply: %w", c.src.Name, err)
	}
	return nil
}

func (c *rule) data(ctx *bot.Context) map[string]any {
	m := ctx.Message()
	sender := m.SenderNickname
	if sender == "" {
		sender = m.SendID
	}
	params := ctx.Params()
	if params == nil {
		params = map[string]string{}
	}
	d := map[string]any{
		"Text":           ctx.Text(),
		"Sender":         sender,
		"SenderID":       m.SendID,
		"SenderNickname": m.SenderNickname,
		"GroupID":        m.GroupID,
		"ConversationID": m.ConversationID,
		"SelfID":         ctx.SelfID(),
		"IsGroup":        ctx.IsGroup(),
		"Args":           ctx.Args(),
		"Params":         params,
		"Match":          []string(nil),
		"Message":        m,
	}
	if c.re != nil {
		d["Match"] = c.re.FindStringSubmatch(ctx.Text())
	}
	for k, v := range params {
		if _, builtin := d[k]; !builtin {
			d[k] = v
		}
	}
	return d
}
