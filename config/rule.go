package config

import (
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Rule is one auto-reply rule of the rules section. A rule matches a message
// when every condition it sets holds (conditions it leaves out always hold);
// list-valued conditions hold when any item does. The autoreply plugin
// compiles rules and gives their meaning in detail; this type only carries
// the file's values and positions.
//
//	rules:
//	  - name: greet
//	    keyword: [hi, hello]
//	    reply: "Hello, {{.Sender}}!"
type Rule struct {
	// Pos is the position of the rule (its mapping).
	Pos Pos `yaml:"-"`

	Name        string `yaml:"name"`        // shown by check and help; default "rule N" (N from 1)
	Description string `yaml:"description"` // shown by help for command rules

	// Conditions.
	Keyword   []string `yaml:"keyword"`   // the text contains one of these words
	Prefix    []string `yaml:"prefix"`    // the text starts with one of these
	Suffix    []string `yaml:"suffix"`    // the text ends with one of these
	Full      []string `yaml:"full"`      // the text is exactly one of these
	Regex     string   `yaml:"regex"`     // Go regular expression; named groups become template data
	Command   string   `yaml:"command"`   // command pattern such as "/weather <city>"
	Expr      string   `yaml:"expr"`      // expr-lang boolean expression over the message
	Content   []string `yaml:"content"`   // content types: text, picture, ... (default: any)
	Chat      string   `yaml:"chat"`      // single, group or any (default any)
	Users     []string `yaml:"users"`     // sender user IDs
	Groups    []string `yaml:"groups"`    // group IDs
	Mentioned bool     `yaml:"mentioned"` // only when the bot is @-mentioned

	// Role restricts the rule to senders with a role in the message's
	// group: owner, admin (the owner included) or superuser (one of
	// permissions.superusers, who also pass owner and admin). Default: no
	// restriction. Deny is the text replied to a message that meets every
	// other condition but not the role (the rule then counts as run);
	// default: no reply, and the message goes on to lower rules as if
	// this rule had not matched.
	Role string `yaml:"role"`
	Deny string `yaml:"deny"`

	// Reply. Reply and Markdown are text/template sources; exactly one of
	// them is required.
	Reply    string `yaml:"reply"`     // plain-text reply template
	Markdown string `yaml:"markdown"`  // markdown reply template
	Quote    bool   `yaml:"quote"`     // quote the message in the reply
	AtSender bool   `yaml:"at_sender"` // @-mention the sender (group chats)

	Cooldown time.Duration `yaml:"cooldown"` // minimum time between two replies of this rule in one conversation; default 0
	Priority int           `yaml:"priority"` // higher runs first; default 0
	Continue bool          `yaml:"continue"` // let lower rules and handlers run too; default false (stop)

	keys map[string]Pos
}

// PosOf returns the position of the value of key in this rule (for example
// "regex"), or the rule's own position when the rule does not set key.
func (r *Rule) PosOf(key string) Pos {
	if p, ok := r.keys[key]; ok {
		return p
	}
	return r.Pos
}

// Has reports whether the rule sets key.
func (r *Rule) Has(key string) bool {
	_, ok := r.keys[key]
	return ok
}

func (r *Rule) decodeNode(d *decoder, n *yaml.Node) {
	type plain Rule // the same fields without decodeNode
	r.Pos = d.pos(n)
	if isNull(n) {
		d.errorf(n, ErrType, "expected a rule (a mapping), got null")
		return
	}
	r.keys = d.decodeOwnKeys(n, reflect.ValueOf((*plain)(r)).Elem())
}

// decodeOwnKeys decodes the mapping n into v (a struct) tracking the
// positions of its keys on their own, and returns them by key (relative
// to n); when the decode around it tracks positions, they are added there
// too, under the current path.
func (d *decoder) decodeOwnKeys(n *yaml.Node, v reflect.Value) map[string]Pos {
	saved, savedPath := d.track, d.path
	d.track, d.path = make(map[string]Pos), nil
	d.decode(n, v)
	keys := d.track
	d.track, d.path = saved, savedPath
	if d.track != nil {
		prefix := strings.Join(d.path, ".")
		for k, p := range keys {
			d.track[prefix+"."+k] = p
		}
	}
	return keys
}

func (r *Rule) validate(d *decoder, i int) {
	at := func(key string) *yaml.Node {
		p := r.PosOf(key)
		return &yaml.Node{Line: p.Line, Column: p.Col}
	}
	if r.Name == "" {
		r.Name = "rule " + strconv.Itoa(i+1)
	}
	switch {
	case r.Reply == "" && r.Markdown == "":
		d.errorf(at(""), ErrValue, "rule %q: needs a reply or a markdown template", r.Name)
	case r.Reply != "" && r.Markdown != "":
		d.errorf(at("markdown"), ErrValue, "rule %q: set reply or markdown, not both", r.Name)
	}
	switch r.Role {
	case "", "owner", "admin", "superuser":
	default:
		d.errorf(at("role"), ErrValue, "rule %q: role: want owner, admin or superuser, got %q", r.Name, short(r.Role))
	}
	if r.Deny != "" && r.Role == "" {
		d.errorf(at("deny"), ErrValue, "rule %q: deny needs a role", r.Name)
	}
	switch r.Chat {
	case "", "any", "single", "group":
	default:
		d.errorf(at("chat"), ErrValue, "rule %q: chat: want single, group or any, got %q", r.Name, short(r.Chat))
	}
	for _, k := range []struct {
		key  string
		list []string
	}{{"keyword", r.Keyword}, {"prefix", r.Prefix}, {"suffix", r.Suffix}, {"full", r.Full}, {"content", r.Content}, {"users", r.Users}, {"groups", r.Groups}} {
		for _, s := range k.list {
			if s == "" {
				d.errorf(at(k.key), ErrValue, "rule %q: %s: empty item", r.Name, k.key)
				break
			}
		}
	}
}
