package dialog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/expr-lang/expr"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/plugins"
	"github.com/openimbot/openimbot/router"
	"github.com/openimbot/openimbot/storage"
)

// Name is the plugin's name and its storage namespace.
const Name = "dialog"

// DefaultMaxDialogs bounds the dialogs in progress at once (WithMaxDialogs).
const DefaultMaxDialogs = 10000

// sendTimeout bounds the send of a timeout message.
const sendTimeout = 10 * time.Second

// Option configures the plugin.
type Option func(*Plugin)

// WithClock sets the clock of the timeouts; default bot.SystemClock().
func WithClock(c bot.Clock) Option { return func(p *Plugin) { p.clock = c } }

// WithMaxDialogs bounds the dialogs in progress at once; a start beyond it
// is refused with a short reply. Default DefaultMaxDialogs; n <= 0 means
// the default.
func WithMaxDialogs(n int) Option { return func(p *Plugin) { p.max = n } }

// Plugin is the dialog plugin. Build it with New.
type Plugin struct {
	clock bot.Clock
	max   int
}

var _ plugins.Plugin = (*Plugin)(nil)

// New returns the plugin.
func New(opts ...Option) *Plugin {
	p := &Plugin{clock: bot.SystemClock(), max: DefaultMaxDialogs}
	for _, o := range opts {
		o(p)
	}
	if p.max <= 0 {
		p.max = DefaultMaxDialogs
	}
	return p
}

// Name returns "dialog".
func (p *Plugin) Name() string { return Name }

// Setup compiles the flows (every error at its file:line:col), registers
// each flow's command and a router middleware that hands the messages of
// users in a dialog to it.
func (p *Plugin) Setup(h plugins.Host) error {
	set, flows, err := compile(h.Config)
	if err != nil {
		return err
	}
	e := &engine{
		set:    set,
		flows:  make(map[string]*flow, len(flows)),
		clock:  p.clock,
		max:    p.max,
		log:    h.Logger,
		store:  h.Store,
		active: make(map[string]*entry),
	}
	for _, f := range flows {
		e.flows[f.name] = f
		desc := f.description
		if desc == "" {
			desc = "start the " + f.name + " dialog"
		}
		loc := router.Location{File: f.pos.File, Line: f.pos.Line, Column: f.pos.Col}
		if err := h.Router.OnFunc(router.Command(f.command), e.start(f), router.Name(f.name), router.Description(desc), router.At(loc)); err != nil {
			return err
		}
	}
	h.Router.Use(e.middleware)
	return nil
}

// state is a dialog in progress, as stored under its key.
type state struct {
	ID       string            `json:"id"`
	Flow     string            `json:"flow"`
	Step     int               `json:"step"`
	Answers  map[string]string `json:"answers"`
	Deadline time.Time         `json:"deadline"`
	Seq      int64             `json:"seq,omitempty"` // the last message applied
	User     string            `json:"user,omitempty"`
	Group    string            `json:"group,omitempty"`
}

func (st *state) target() bot.Target {
	if st.Group != "" {
		return bot.ToGroup(st.Group)
	}
	return bot.ToUser(st.User)
}

// key is the storage key of the dialog of user in conv.
func key(conv, user string) string { return conv + "\x00" + user }

// engine runs the flows of one Setup.
type engine struct {
	set   *settings
	flows map[string]*flow
	clock bot.Clock
	max   int
	log   *slog.Logger
	store *storage.Namespace // from Setup; nil: the bot's, at the first message

	initMu sync.Mutex
	ready  atomic.Bool
	epoch  uint64 // this engine's number; a newer one owns the timeouts
	ns     *storage.Namespace
	sender bot.Sender

	mu     sync.Mutex
	active map[string]*entry // the dialogs in progress, by key
	locks  [64]sync.Mutex    // by hash of the key: one step of a dialog at a time
}

type entry struct {
	id    string
	timer bot.Timer
}

// init loads the dialogs in progress from storage and arms their timeouts,
// once, on the first message: that is when the bot's database and sender
// are known.
func (e *engine) init(c *bot.Context) error {
	if e.ready.Load() {
		return nil
	}
	e.initMu.Lock()
	defer e.initMu.Unlock()
	if e.ready.Load() {
		return nil
	}
	ns := e.store
	if ns == nil {
		ns = c.Namespace(Name)
	}
	if ns == nil {
		return errors.New("dialog: no database to keep dialogs in")
	}
	e.ns = ns
	if b := c.Bot(); b != nil {
		e.sender = b
	}
	// Take over the timeouts from an earlier engine (before a reload).
	epoch, err := e.readEpoch(ns)
	if err != nil {
		return fmt.Errorf("dialog: %w", err)
	}
	e.epoch = epoch + 1
	if err := ns.Put(epochKey, []byte(strconv.FormatUint(e.epoch, 10))); err != nil {
		return fmt.Errorf("dialog: %w", err)
	}
	var states []state
	var keys []string
	err = ns.ForEach(func(k string, v []byte) error {
		if k == epochKey {
			return nil
		}
		var st state
		if err := json.Unmarshal(v, &st); err != nil {
			e.log.Warn("dialog: dropping an unreadable dialog state", "key", k, "err", err)
			return ns.Delete(k)
		}
		states, keys = append(states, st), append(keys, k)
		return nil
	})
	if err != nil {
		return fmt.Errorf("dialog: load the dialogs in progress: %w", err)
	}
	for i, st := range states {
		e.track(keys[i], st)
	}
	e.ready.Store(true)
	if len(states) > 0 {
		e.log.Info("dialog: resumed dialogs in progress", "count", len(states))
	}
	return nil
}

// epochKey holds the number of the newest engine (one per Setup, that is
// per configuration load) that took over the dialogs; it cannot be a
// dialog's key, which starts with a conversation ID.
const epochKey = "\x00epoch"

func (e *engine) readEpoch(ns *storage.Namespace) (uint64, error) {
	v, ok, err := ns.Get(epochKey)
	if err != nil || !ok {
		return 0, err
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return 0, nil // unreadable: start afresh
	}
	return n, nil
}

func (e *engine) lock(k string) *sync.Mutex {
	h := uint32(2166136261)
	for i := 0; i < len(k); i++ {
		h = (h ^ uint32(k[i])) * 16777619
	}
	return &e.locks[h%uint32(len(e.locks))]
}

// track records the dialog under k as in progress and arms its timeout.
func (e *engine) track(k string, st state) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if old := e.active[k]; old != nil && old.timer != nil {
		old.timer.Stop()
	}
	en := &entry{id: st.ID}
	if e.sender != nil {
		id := st.ID
		en.timer = e.clock.AfterFunc(st.Deadline.Sub(e.clock.Now()), func() { e.expireByTimer(k, id) })
	}
	e.active[k] = en
}

// forget removes the dialog under k (if it is still id).
func (e *engine) forget(k, id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if en := e.active[k]; en != nil && en.id == id {
		if en.timer != nil {
			en.timer.Stop()
		}
		delete(e.active, k)
	}
}

func (e *engine) inProgress(k string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.active[k] != nil
}

// middleware hands the message of a user in a dialog to the dialog, and
// every other message to next.
func (e *engine) middleware(next bot.Handler) bot.Handler {
	return bot.HandlerFunc(func(c *bot.Context) error {
		m := c.Message()
		if m.SendID == "" || m.SendID == c.SelfID() {
			return next.Handle(c)
		}
		if err := e.init(c); err != nil {
			c.Logger().Error("dialog: not available", "err", err)
			return next.Handle(c)
		}
		k := key(m.ConversationID, m.SendID)
		if !e.inProgress(k) {
			return next.Handle(c)
		}
		handled, err := e.answer(c, k)
		if !handled {
			if err != nil {
				c.Logger().Error("dialog: error", "err", err)
			}
			return next.Handle(c)
		}
		return err
	})
}

// start returns the handler of a flow's command.
func (e *engine) start(f *flow) func(*bot.Context) error {
	return func(c *bot.Context) error {
		if err := e.init(c); err != nil {
			return err
		}
		m := c.Message()
		k := key(m.ConversationID, m.SendID)
		mu := e.lock(k)
		mu.Lock()
		defer mu.Unlock()
		e.mu.Lock()
		n := len(e.active)
		e.mu.Unlock()
		if n >= e.max {
			return c.Reply("Too many conversations in progress; please try again later.")
		}
		st := state{ID: strconv.FormatUint(rand.Uint64(), 36), Flow: f.name, Answers: map[string]string{},
			Deadline: e.clock.Now().Add(f.timeout), Seq: m.Seq}
		if t := c.ReplyTarget(); t.GroupID != "" {
			st.Group = t.GroupID
		} else {
			st.User = t.UserID
		}
		if err := e.ns.PutJSON(k, &st); err != nil {
			return fmt.Errorf("dialog: flow %q: save: %w", f.name, err)
		}
		e.track(k, st)
		return e.ask(c, f, &st, "")
	}
}

// answer applies c's message to the dialog under k. It reports false when
// the message is not for the dialog after all (it ended, it timed out): the
// router then handles it.
func (e *engine) answer(c *bot.Context, k string) (bool, error) {
	mu := e.lock(k)
	mu.Lock()
	defer mu.Unlock()
	var st state
	ok, err := e.ns.GetJSON(k, &st)
	if err != nil {
		return false, fmt.Errorf("dialog: load: %w", err)
	}
	if !ok {
		e.forget(k, e.idOf(k))
		return false, nil
	}
	f := e.flows[st.Flow]
	if f == nil || st.Step >= len(f.steps) { // the flow left the configuration
		e.forget(k, st.ID)
		return false, e.ns.Delete(k)
	}
	now := e.clock.Now()
	if !now.Before(st.Deadline) {
		// Timed out while the bot was down or before its timer ran: end
		// it, and let the router have the message.
		e.forget(k, st.ID)
		if err := e.ns.Delete(k); err != nil {
			return false, err
		}
		return false, e.say(c.Context(), &st, f.timeoutMsg)
	}
	m := c.Message()
	if m.Seq > 0 && m.Seq <= st.Seq {
		// Delivered again after a crash: it was applied already, but its
		// reply may not have gone out. Ask the current question again.
		return true, e.ask(c, f, &st, "")
	}
	text := strings.TrimSpace(c.Text())
	for _, w := range e.set.Cancel {
		if strings.EqualFold(text, w) {
			e.forget(k, st.ID)
			if err := e.ns.Delete(k); err != nil {
				return true, err
			}
			return true, replyText(c, f.cancelMsg)
		}
	}
	s := f.steps[st.Step]
	st.Seq = m.Seq
	st.Deadline = now.Add(f.timeout)
	val, valid := s.check(text, st.Answers, m.SendID)
	if !valid {
		if err := e.ns.PutJSON(k, &st); err != nil {
			return true, err
		}
		e.track(k, st)
		if s.retry != "" {
			return true, replyText(c, s.retry)
		}
		return true, e.ask(c, f, &st, DefaultRetry+"\n")
	}
	st.Answers[s.key] = val
	st.Step++
	if st.Step == len(f.steps) {
		e.forget(k, st.ID)
		if err := e.ns.Delete(k); err != nil {
			return true, err
		}
		text, err := execute(f.reply, e.data(c, f, &st))
		if err != nil {
			return true, fmt.Errorf("dialog: flow %q reply: %w", f.name, err)
		}
		return true, replyText(c, text)
	}
	if err := e.ns.PutJSON(k, &st); err != nil {
		return true, err
	}
	e.track(k, st)
	return true, e.ask(c, f, &st, "")
}

func (e *engine) idOf(k string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if en := e.active[k]; en != nil {
		return en.id
	}
	return ""
}

// expireByTimer ends the dialog under k if it is still id and its deadline
// has passed, and says so.
func (e *engine) expireByTimer(k, id string) {
	mu := e.lock(k)
	mu.Lock()
	defer mu.Unlock()
	if epoch, err := e.readEpoch(e.ns); err != nil || epoch != e.epoch {
		return // a newer engine (a reload) took over this dialog's timeout
	}
	var st state
	ok, err := e.ns.GetJSON(k, &st)
	if err != nil || !ok || st.ID != id || e.clock.Now().Before(st.Deadline) {
		return
	}
	e.forget(k, id)
	if err := e.ns.Delete(k); err != nil {
		e.log.Error("dialog: delete a timed-out dialog", "err", err)
		return
	}
	msg := DefaultTimeoutMessage
	if f := e.flows[st.Flow]; f != nil {
		msg = f.timeoutMsg
	}
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	if err := e.say(ctx, &st, msg); err != nil {
		e.log.Error("dialog: send the timeout message", "flow", st.Flow, "err", err)
	}
}

// say sends text to the dialog's conversation with the plugin's sender.
func (e *engine) say(ctx context.Context, st *state, text string) error {
	if e.sender == nil || strings.TrimSpace(text) == "" {
		return nil
	}
	_, err := e.sender.Send(ctx, st.target(), content.NewText(text))
	return err
}

// ask sends the current step's question, after prefix.
func (e *engine) ask(c *bot.Context, f *flow, st *state, prefix string) error {
	text, err := execute(f.steps[st.Step].ask, e.data(c, f, st))
	if err != nil {
		return fmt.Errorf("dialog: flow %q step %d: %w", f.name, st.Step+1, err)
	}
	return replyText(c, prefix+text)
}

func (e *engine) data(c *bot.Context, f *flow, st *state) map[string]any {
	m := c.Message()
	sender := m.SenderNickname
	if sender == "" {
		sender = m.SendID
	}
	d := map[string]any{"Flow": f.name, "Sender": sender, "SenderID": m.SendID, "Answers": st.Answers}
	for k, v := range st.Answers {
		d[k] = v
	}
	// Keys of later steps are not answered yet: they read as "".
	for _, s := range f.steps {
		if _, ok := d[s.key]; !ok {
			d[s.key] = ""
		}
	}
	return d
}

func execute(t *template.Template, data any) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

func replyText(c *bot.Context, text string) error {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	return c.Reply(text)
}

// check validates an answer; it returns the value to store.
func (s *step) check(text string, answers map[string]string, sender string) (string, bool) {
	if text == "" {
		return "", false
	}
	if s.re != nil && !s.re.MatchString(text) {
		return "", false
	}
	num, err := strconv.ParseFloat(text, 64)
	isNum := err == nil && !math.IsNaN(num) && !math.IsInf(num, 0)
	if !isNum {
		num = 0
	}
	if s.number {
		if !isNum || s.min != nil && num < *s.min || s.max != nil && num > *s.max {
			return "", false
		}
	}
	val := text
	if len(s.choices) > 0 {
		found := false
		for _, c := range s.choices {
			if strings.EqualFold(c, text) {
				val, found = c, true
				break
			}
		}
		if !found {
			return "", false
		}
	}
	if s.prog != nil {
		out, err := expr.Run(s.prog, ExprEnv{Answer: text, Number: num, IsNumber: isNum, Answers: answers, SenderID: sender})
		if ok, _ := out.(bool); err != nil || !ok {
			return "", false
		}
	}
	return val, true
}
