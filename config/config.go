package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is a whole openimbot configuration file. Zero values of fields that
// the file leaves out are replaced by the defaults documented on each field
// (see Default).
type Config struct {
	// File is the name the configuration was loaded from.
	File string `yaml:"-"`

	OpenIM  OpenIM  `yaml:"openim"`
	Storage Storage `yaml:"storage"`
	Sync    Sync    `yaml:"sync"`
	Send    Send    `yaml:"send"`
	Log     Log     `yaml:"log"`
	Console Console `yaml:"console"`
	Admin   Admin   `yaml:"admin"`   // admin.go
	Webhook Webhook `yaml:"webhook"` // receive.go
	Cluster Cluster `yaml:"cluster"` // cluster.go

	// Plugins enables plugins by name, each with its own configuration, in
	// the order of the file.
	Plugins Plugins `yaml:"plugins"`

	// Permissions lists the superusers of rules with a role (permissions.go).
	Permissions Permissions `yaml:"permissions"`

	// Rules are the auto-reply rules (see Rule), in the order of the file.
	Rules []Rule `yaml:"rules"`

	// Schedules are the scheduled messages (see Schedule), in the order of
	// the file.
	Schedules []Schedule `yaml:"schedules"`

	pos map[string]Pos
}

// OpenIM says which OpenIM server the bot connects to and as whom.
type OpenIM struct {
	// WSAddr is the message gateway, e.g. ws://127.0.0.1:10001. With
	// APIAddr, empty (the default) means: start the embedded sandbox.
	WSAddr string `yaml:"ws_addr"`
	// APIAddr is the HTTP API, e.g. http://127.0.0.1:10002. Needed to get a
	// token with AdminSecret.
	APIAddr string `yaml:"api_addr"`
	// UserID is the bot's OpenIM user ID; default "bot".
	UserID string `yaml:"user_id"`
	// Nickname is the bot's display name when the bot registers itself
	// (embedded sandbox); default "Bot".
	Nickname string `yaml:"nickname"`
	// Token is the bot's user token for PlatformID. When empty, the token is
	// fetched through the HTTP API with AdminSecret.
	Token string `yaml:"token"`
	// AdminSecret is the server's secret (share.secret of OpenIM), used to
	// get an admin token and then the bot's user token.
	AdminSecret string `yaml:"admin_secret"`
	// AdminUserID is an admin user ID of the server; default "imAdmin".
	AdminUserID string `yaml:"admin_user_id"`
	// PlatformID is the platform the bot logs in as, 1 to 11; default 7
	// (Linux).
	PlatformID int `yaml:"platform_id"`
	// Compression is "none" (default) or "gzip".
	Compression string `yaml:"compression"`
	// MaxReconnects is how many connection attempts in a row may fail
	// before the bot gives up and exits; 0 (the default) means it keeps
	// trying for ever, with the back-off of 1, 2, 4, 8, 16 s.
	MaxReconnects int `yaml:"max_reconnects"`
	// Receive is how messages arrive: "gateway" (the websocket, default),
	// "poll" (the HTTP API) or "webhook" (OpenIM's callbacks); see
	// receive.go.
	Receive string `yaml:"receive"`
	// Fallback is "none" (default) or "poll": in gateway mode, poll the
	// HTTP API while the websocket cannot be established.
	Fallback string `yaml:"fallback"`
	// FallbackAfter is how many websocket dials must fail in a row before
	// the fallback switches to polling; default 3.
	FallbackAfter int `yaml:"fallback_after"`
	// FallbackRetry is how often the fallback tries the websocket again
	// while it polls; default 30s.
	FallbackRetry time.Duration `yaml:"fallback_retry"`
	// Poll configures poll mode and the fallback's polling.
	Poll Poll `yaml:"poll"`
}

// Embedded reports whether the configuration asks for the embedded sandbox:
// no gateway and no API address.
func (o OpenIM) Embedded() bool { return o.WSAddr == "" && o.APIAddr == "" }

// Storage configures the bot's database.
type Storage struct {
	// Path is the bbolt file holding watermarks, the dedup window and plugin
	// data. Default "openimbot.db" against a real server; with the embedded
	// sandbox, empty (the default) means a temporary file removed at exit,
	// and a path makes the sandbox keep its history in PATH.sandbox too.
	Path string `yaml:"path"`
}

// Sync configures message synchronisation.
type Sync struct {
	// Backlog is what the bot does, on its first start (an empty database),
	// with the history already stored in its conversations: "skip" it
	// (default), handle "all" of it, or only the "last:N" messages of each
	// conversation. Messages missed while a known bot was offline are always
	// handled.
	Backlog Backlog `yaml:"backlog"`
	// SeqReset is what the bot does when the server's newest seq of a
	// conversation is below the bot's watermark (a server or sandbox reset,
	// a restored backup); it always logs an error with both numbers.
	// "resync" (default) takes the server's seqs as the watermark, so new
	// messages are handled; "replay" handles everything the server has
	// again; "keep" keeps the watermark (messages up to it are ignored).
	SeqReset string `yaml:"seq_reset"`
}

// Send limits what the bot sends.
type Send struct {
	// Rate is the average number of messages a second the bot may send to
	// one conversation; default 5; 0 means no limit. A reply over the limit
	// fails (and is logged) rather than wait.
	Rate float64 `yaml:"rate"`
	// Burst is how many messages may go out at once above Rate; default 10.
	Burst int `yaml:"burst"`
	// LoopGuard is how many messages the bot may send into a conversation
	// in answer to other bots since the last human message there; default
	// 5; 0 turns the guard off. It stops two bots answering each other,
	// whatever Rate (see bot.WithLoopGuard).
	LoopGuard int `yaml:"loop_guard"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info (default), warn or error.
	Level string `yaml:"level"`
	// Format is text (default) or json.
	Format string `yaml:"format"`
}

// SlogLevel returns Level as a slog.Level (info when unset or unknown).
func (l Log) SlogLevel() slog.Level {
	lv, _ := ParseLevel(l.Level)
	return lv
}

// ParseLevel parses debug, info, warn or error (case-insensitive).
func ParseLevel(s string) (slog.Level, bool) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, true
	case "info", "":
		return slog.LevelInfo, true
	case "warn", "warning":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return slog.LevelInfo, false
}

// Console configures the terminal console used with the embedded sandbox.
type Console struct {
	// User is the user ID that lines typed on the console are sent as;
	// default "alice".
	User string `yaml:"user"`
}

// BacklogMode is a Backlog policy.
type BacklogMode int

const (
	// BacklogSkip ignores the stored history (the default).
	BacklogSkip BacklogMode = iota
	// BacklogAll handles the whole stored history.
	BacklogAll
	// BacklogLast handles the last N stored messages per conversation.
	BacklogLast
)

// Backlog is a sync.backlog policy: "skip", "all" or "last:N".
type Backlog struct {
	Mode BacklogMode
	N    int // for BacklogLast, at least 1
}

// String returns the policy in its YAML form.
func (b Backlog) String() string {
	switch b.Mode {
	case BacklogAll:
		return "all"
	case BacklogLast:
		return "last:" + strconv.Itoa(b.N)
	}
	return "skip"
}

// ParseBacklog parses "skip", "all" or "last:N" (N >= 1).
func ParseBacklog(s string) (Backlog, error) {
	switch s {
	case "skip":
		return Backlog{Mode: BacklogSkip}, nil
	case "all":
		return Backlog{Mode: BacklogAll}, nil
	}
	if rest, ok := strings.CutPrefix(s, "last:"); ok {
		n, err := strconv.Atoi(rest)
		if err == nil && n >= 1 {
			return Backlog{Mode: BacklogLast, N: n}, nil
		}
	}
	return Backlog{}, fmt.Errorf("want skip, all or last:N with N >= 1, got %q", short(s))
}

func (b *Backlog) decodeNode(d *decoder, n *yaml.Node) {
	if isNull(n) || !d.scalar(n, "skip, all or last:N") {
		return
	}
	v, err := ParseBacklog(n.Value)
	if err != nil {
		d.errorf(n, ErrValue, "sync.backlog: want skip, all or last:N with N >= 1, got %s", d.show(n))
		return
	}
	*b = v
}

// PluginConfig is one entry of the plugins section.
type PluginConfig struct {
	Name   string
	Pos    Pos  // position of the name
	Config Node // the plugin's configuration; zero when none was given
}

// Plugins is the plugins section: either a mapping of plugin name to its
// configuration, or a list whose items are plugin names or one-key mappings.
//
//	plugins:            plugins:
//	  echo: {}            - echo
//	  ratelimit:          - ratelimit: {rate: 5}
//	    rate: 5
type Plugins []PluginConfig

// Lookup returns the entry for name.
func (ps Plugins) Lookup(name string) (PluginConfig, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return PluginConfig{}, false
}

func (ps *Plugins) decodeNode(d *decoder, n *yaml.Node) {
	if isNull(n) {
		return
	}
	seen := make(map[string]bool)
	add := func(k, val *yaml.Node) {
		if seen[k.Value] {
			d.errorf(k, ErrSyntax, "plugin %q is listed twice", short(k.Value))
			return
		}
		seen[k.Value] = true
		pc := PluginConfig{Name: k.Value, Pos: d.pos(k)}
		if val != nil {
			if r := d.resolve(val); r != nil && !isNull(r) {
				pc.Config = Node{n: r, file: d.file, secret: d.secret}
			}
		}
		*ps = append(*ps, pc)
	}
	switch n.Kind {
	case yaml.MappingNode:
		d.keys(n, func(_ string, k, val *yaml.Node) { add(k, val) })
	case yaml.SequenceNode:
		for _, item := range n.Content {
			item = d.resolve(item)
			switch {
			case item == nil:
			case item.Kind == yaml.ScalarNode && !isNull(item):
				add(item, nil)
			case item.Kind == yaml.MappingNode && len(item.Content) == 2:
				d.keys(item, func(_ string, k, val *yaml.Node) { add(k, val) })
			default:
				d.errorf(item, ErrType, "a plugins item must be a plugin name or a one-key mapping name: {config}, got %s", kindName(item))
			}
		}
	default:
		d.errorf(n, ErrType, "plugins: expected a mapping of plugin name to configuration, got %s", kindName(n))
	}
}

// Default returns the configuration of an empty file.
func Default() *Config {
	return &Config{
		OpenIM: OpenIM{
			UserID:        "bot",
			Nickname:      "Bot",
			AdminUserID:   "imAdmin",
			PlatformID:    7,
			Compression:   "none",
			Receive:       ReceiveGateway,
			Fallback:      "none",
			FallbackAfter: DefaultFallbackAfter,
			FallbackRetry: DefaultFallbackRetry,
			Poll:          Poll{Interval: DefaultPollInterval, MaxInterval: DefaultPollMaxInterval},
		},
		Webhook: Webhook{Listen: DefaultWebhookListen, Path: DefaultWebhookPath, Reconcile: DefaultWebhookReconcile},
		Sync:    Sync{Backlog: Backlog{Mode: BacklogSkip}, SeqReset: "resync"},
		Send:    Send{Rate: 5, Burst: 10, LoopGuard: 5},
		Log:     Log{Level: "info", Format: "text"},
		Console: Console{User: "alice"},
		Cluster: Cluster{Listen: DefaultClusterListen, Partitions: 16, Replicas: 1},
	}
}

// PosOf returns the position of the value at a dotted path such as
// "openim.platform_id" or "rules.2.regex", or the file alone (Line 0) when
// the file does not set it.
func (c *Config) PosOf(path string) Pos {
	if p, ok := c.pos[path]; ok {
		return p
	}
	return Pos{File: c.File}
}

// MaxFileSize bounds the size of a configuration file.
const MaxFileSize = 4 << 20

// Load reads and parses the file at path, expanding environment variables
// with os.LookupEnv. See Parse.
func Load(path string) (*Config, error) {
	data, err := readFile(path) // rules.go
	if err != nil {
		return nil, err
	}
	return Parse(path, data, os.LookupEnv)
}

// Parse parses a configuration file's content. file names it in positions.
// lookup resolves ${NAME} references; nil means os.LookupEnv. The returned
// error, if any, is an Errors list with every problem found.
func Parse(file string, data []byte, lookup LookupFunc) (*Config, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	if len(data) > MaxFileSize {
		return nil, Errors{{Pos: Pos{File: file}, Kind: ErrValue, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}}
	}
	root, err := parseYAMLAt(file, data)
	if err != nil {
		return nil, err
	}
	d := newDecoder(file, make(map[*yaml.Node]bool))
	d.track = make(map[string]Pos)
	d.fromEnv = make(map[string]bool)
	cfg := Default()
	cfg.File = file
	if root != nil {
		d.expandTree(root, lookup)
		if len(d.errs) == 0 {
			top := d.resolve(root)
			if top != nil && !isNull(top) && top.Kind != yaml.MappingNode {
				d.errorf(top, ErrType, "expected a mapping at the top of the file, got %s", kindName(top))
			} else {
				d.decode(root, reflect.ValueOf(cfg).Elem())
			}
		}
	}
	cfg.pos = d.track
	if len(d.errs) == 0 {
		cfg.validate(d)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parseYAML parses exactly one YAML document; an empty file gives nil.
func parseYAML(file string, data []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil { // the YAML library must not take the process down
			root, err = nil, Errors{{Pos: Pos{File: file}, Kind: ErrSyntax, Msg: fmt.Sprintf("cannot parse YAML: %v", r)}}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			return nil, syntaxError(file, err)
		}
		return nil, Errors{{Pos: Pos{File: file, Line: line}, Kind: ErrSyntax, Msg: "more than one YAML document (---); want one"}}
	}
	return &doc, nil
}

// syntaxError turns "yaml: line 3: did not find expected key" into an
// Error at line 3.
func syntaxError(file string, err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	p := Pos{File: file}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				p.Line = n
				msg = tail
			}
		}
	}
	return Errors{{Pos: p, Kind: ErrSyntax, Msg: msg}}
}

// validate checks values that decoded fine, and fills the defaults that
// depend on other values.
func (c *Config) validate(d *decoder) {
	at := func(path string) *yaml.Node {
		p := c.PosOf(path)
		return &yaml.Node{Line: p.Line, Column: p.Col}
	}
	bad := func(path, format string, args ...any) {
		d.errorf(at(path), ErrValue, path+": "+format, args...)
	}
	// show quotes a value for an error, unless it came from the environment.
	show := func(path, v string) string {
		if d.fromEnv[path] {
			return "a value from the environment"
		}
		return strconv.Quote(short(v))
	}
	o := &c.OpenIM
	if o.UserID == "" {
		bad("openim.user_id", "must not be empty")
	}
	if o.AdminUserID == "" {
		bad("openim.admin_user_id", "must not be empty")
	}
	if o.PlatformID < 1 || o.PlatformID > 11 {
		bad("openim.platform_id", "must be an OpenIM platform ID from 1 to 11 (7 is Linux), got %d", o.PlatformID)
	}
	if o.MaxReconnects < 0 {
		bad("openim.max_reconnects", "must not be negative (0 means never give up)")
	}
	switch o.Compression {
	case "none", "gzip":
	default:
		bad("openim.compression", "want none or gzip, got %s", show("openim.compression", o.Compression))
	}
	if o.WSAddr != "" {
		if err := checkURL(o.WSAddr, "ws", "wss"); err != nil {
			bad("openim.ws_addr", "%v", err)
		}
	}
	if o.APIAddr != "" {
		if err := checkURL(o.APIAddr, "http", "https"); err != nil {
			bad("openim.api_addr", "%v", err)
		}
	}
	if !o.Embedded() {
		switch {
		case o.WSAddr == "" && o.Receive == ReceiveGateway:
			bad("openim.api_addr", "openim.ws_addr must be set too (leave both empty for the embedded sandbox)")
		case o.Token == "" && o.AdminSecret == "":
			bad("openim.ws_addr", "a real server needs openim.token or openim.admin_secret (use ${OPENIM_TOKEN} to keep it out of the file)")
		case o.Token == "" && o.APIAddr == "":
			bad("openim.admin_secret", "getting a token with the admin secret needs openim.api_addr")
		}
		if c.Storage.Path == "" {
			c.Storage.Path = "openimbot.db"
		}
	}
	c.validateReceive(bad)
	if c.Send.Rate < 0 {
		bad("send.rate", "must not be negative (0 means no limit)")
	}
	if c.Send.Rate > 0 && c.Send.Burst < 1 {
		bad("send.burst", "must be at least 1")
	}
	switch c.Sync.SeqReset {
	case "resync", "replay", "keep":
	default:
		bad("sync.seq_reset", "want resync, replay or keep, got %s", show("sync.seq_reset", c.Sync.SeqReset))
	}
	if c.Send.LoopGuard < 0 {
		bad("send.loop_guard", "must not be negative (0 turns the guard off)")
	}
	if _, ok := ParseLevel(c.Log.Level); !ok {
		bad("log.level", "want debug, info, warn or error, got %s", show("log.level", c.Log.Level))
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "want text or json, got %s", show("log.format", c.Log.Format))
	}
	if c.Console.User == "" {
		bad("console.user", "must not be empty")
	} else if c.Console.User == o.UserID {
		bad("console.user", "must differ from openim.user_id")
	}
	c.validateAdmin(bad)
	c.validateCluster(bad)
	validateRules(d, c.Rules)
	c.validateSchedules(d)
}

// checkURL accepts host:port (the first scheme is implied) or a URL with one
// of the schemes.
func checkURL(s string, schemes ...string) error {
	if !strings.Contains(s, "://") {
		s = schemes[0] + "://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a valid address")
	}
	ok := false
	for _, sc := range schemes {
		ok = ok || u.Scheme == sc
	}
	if !ok {
		return fmt.Errorf("scheme must be %s, got %q", strings.Join(schemes, " or "), short(u.Scheme))
	}
	if u.Host == "" {
		return fmt.Errorf("missing host")
	}
	return nil
}

// URL returns addr as a URL, adding scheme when addr is a bare host:port.
func URL(addr, scheme string) string {
	if addr == "" || strings.Contains(addr, "://") {
		return addr
	}
	return scheme + "://" + addr
}
