package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
)

// maxEvents bounds the events the console keeps for its pages.
const maxEvents = 1000

// event is what the console page polls for: a message seen on the sandbox
// (with its trace when a user sent it), or the bot's report that it handled
// one.
type event struct {
	ID   int64  `json:"id"`
	Type string `json:"type"` // "message" or "handled"

	Message *messageJSON `json:"message,omitempty"`
	Trace   *traceJSON   `json:"trace,omitempty"`

	// handled
	Conversation string  `json:"conversation,omitempty"`
	Seq          int64   `json:"seq,omitempty"`
	Route        string  `json:"route,omitempty"`
	DurationMs   float64 `json:"durationMs,omitempty"`
	Error        string  `json:"error,omitempty"`
	Panic        bool    `json:"panic,omitempty"`
}

// messageJSON is a message as the page renders it.
type messageJSON struct {
	Key          string   `json:"key"` // conversation/seq, or conversation/sN for a message without seq
	Conversation string   `json:"conversation"`
	Seq          int64    `json:"seq"`
	From         string   `json:"from"`
	To           string   `json:"to,omitempty"`
	Group        string   `json:"group,omitempty"`
	Kind         string   `json:"kind"`
	Text         string   `json:"text,omitempty"`
	Markdown     string   `json:"markdown,omitempty"`
	Picture      string   `json:"picture,omitempty"`
	Mentions     []string `json:"mentions,omitempty"`
	QuoteFrom    string   `json:"quoteFrom,omitempty"`
	QuoteText    string   `json:"quoteText,omitempty"`
	Time         int64    `json:"time"`
}

func toJSON(m *content.Message) *messageJSON {
	out := &messageJSON{Key: msgKey(m.ConversationID, m.Seq), Conversation: m.ConversationID, Seq: m.Seq, From: m.SendID, To: m.RecvID, Group: m.GroupID,
		Kind: contentKind(m.ContentType), Text: m.Text(), Time: m.SendTime}
	quote := func(q *content.QuotedMessage) {
		if q != nil {
			out.QuoteFrom = q.SendID
			out.QuoteText = quotedText(q)
		}
	}
	switch e := m.Elem.(type) {
	case *content.Markdown:
		out.Markdown, out.Text = e.Content, ""
	case *content.Picture:
		out.Picture = e.SnapshotPicture.URL
		if out.Picture == "" {
			out.Picture = e.SourcePicture.URL
		}
	case *content.AtText:
		out.Mentions = e.AtUserList
		quote(e.QuoteMessage)
	case *content.Quote:
		quote(e.QuoteMessage)
	}
	if out.Text == "" && out.Markdown == "" && out.Picture == "" {
		out.Text = "[" + m.ContentType.String() + "]"
	}
	return out
}

// quotedText is the text of a quoted message, decoded if need be.
func quotedText(q *content.QuotedMessage) string {
	if m := q.Message(); m != nil {
		if t := m.Text(); t != "" {
			return t
		}
		return "[" + m.ContentType.String() + "]"
	}
	return ""
}

// chat is the chat panel's side on the server: it keeps the recent
// events and sends as users. With the sandbox it watches every message
// there; against a real server (sendAs) it shows what the bot receives and
// sends, as the bot's observer. It is a bot.Observer (through Metrics).
type chat struct {
	bot.NopObserver
	sb     *sandbox.Server
	sendAs func(context.Context, *content.Message) error
	botID  string
	trace  func(*content.Message) *traceJSON

	mu      sync.Mutex
	events  []event
	next    int64
	changed chan struct{}              // closed and replaced on every new event
	msgs    map[string]content.Message // conversation/seq → message, for quotes
	order   []string                   // keys of msgs, oldest first

	unsub func()
	done  chan struct{}
}

func newChat(sb *sandbox.Server, sendAs func(context.Context, *content.Message) error, botID string,
	trace func(*content.Message) *traceJSON) *chat {
	return &chat{sb: sb, sendAs: sendAs, botID: botID, trace: trace, next: 1, changed: make(chan struct{}),
		msgs: map[string]content.Message{}}
}

func (c *chat) start() {
	if c.sb == nil {
		return
	}
	ch, unsub := c.sb.Subscribe(1024)
	c.unsub, c.done = unsub, make(chan struct{})
	go func() {
		defer close(c.done)
		for m := range ch {
			c.seen(m)
		}
	}()
}

func (c *chat) stop() {
	if c.unsub != nil {
		c.unsub()
		<-c.done
	}
}

func msgKey(conv string, seq int64) string { return conv + "/" + strconv.FormatInt(seq, 10) }

// seen records a message from the sandbox: the bot's own, or one sent to
// the bot or in a group.
func (c *chat) seen(m content.Message) {
	if m.SendID != c.botID && m.RecvID != c.botID && m.GroupID == "" {
		return
	}
	if m.ContentType >= 1000 || m.ContentType == content.TypeTyping { // notifications, typing
		return
	}
	ev := event{Type: "message", Message: toJSON(&m)}
	if m.SendID != c.botID {
		ev.Trace = c.trace(&m)
	}
	c.mu.Lock()
	if m.Seq == 0 {
		ev.Message.Key = m.ConversationID + "/s" + strconv.FormatInt(c.next, 10)
	}
	k := ev.Message.Key
	if _, ok := c.msgs[k]; !ok {
		c.order = append(c.order, k)
		if len(c.order) > maxEvents {
			delete(c.msgs, c.order[0])
			c.order = c.order[1:]
		}
	}
	c.msgs[k] = m
	c.addLocked(ev)
	c.mu.Unlock()
}

// Received records, against a real server, a message the bot received.
func (c *chat) Received(m *content.Message, offline bool) {
	if c.sb == nil {
		c.seen(*m)
	}
}

// Sent records, against a real server, a message the bot sent.
func (c *chat) Sent(e bot.SendEvent) {
	if c.sb != nil || e.Err != nil || e.Elem == nil {
		return
	}
	m, err := content.NewMessage(e.Elem)
	if err != nil {
		return
	}
	m.SendID, m.SendTime = c.botID, time.Now().UnixMilli()
	if e.To.GroupID != "" {
		m.GroupID, m.SessionType, m.ConversationID = e.To.GroupID, content.GroupChat, content.GroupConversationID(e.To.GroupID)
	} else {
		m.RecvID, m.SessionType, m.ConversationID = e.To.UserID, content.SingleChat, content.SingleConversationID(c.botID, e.To.UserID)
	}
	c.seen(*m)
}

// Handled records the bot's report on a message.
func (c *chat) Handled(e bot.HandledEvent) {
	ev := event{Type: "handled", Conversation: e.Message.ConversationID, Seq: e.Message.Seq, Route: e.Route,
		DurationMs: float64(e.Duration.Microseconds()) / 1000, Panic: e.Panic}
	if e.Err != nil {
		ev.Error = e.Err.Error()
	}
	c.mu.Lock()
	c.addLocked(ev)
	c.mu.Unlock()
}

func (c *chat) addLocked(ev event) {
	ev.ID = c.next
	c.next++
	c.events = append(c.events, ev)
	if len(c.events) > maxEvents {
		c.events = append(c.events[:0:0], c.events[len(c.events)-maxEvents:]...)
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

// after returns the events after id, waiting up to wait for one.
func (c *chat) after(ctx context.Context, id int64, wait time.Duration) []event {
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		c.mu.Lock()
		var out []event
		for _, ev := range c.events {
			if ev.ID > id {
				out = append(out, ev)
			}
		}
		changed := c.changed
		c.mu.Unlock()
		if len(out) > 0 {
			return out
		}
		select {
		case <-changed:
		case <-t.C:
			return []event{}
		case <-ctx.Done():
			return []event{}
		}
	}
}

// sendRequest is a message typed in the chat panel.
type sendRequest struct {
	From     string   `json:"from"`
	Group    string   `json:"group"`
	Text     string   `json:"text"`
	Mentions []string `json:"mentions"`
	// Quote names a message to quote: its conversation and seq.
	QuoteConversation string `json:"quoteConversation"`
	QuoteSeq          int64  `json:"quoteSeq"`
	Picture           string `json:"picture"`
}

func (c *chat) send(req sendRequest) (content.Message, error) {
	if req.From == "" {
		return content.Message{}, errors.New("no sender (from)")
	}
	if req.From == c.botID {
		return content.Message{}, errors.New("the console cannot send as the bot itself")
	}
	if c.sb == nil {
		return c.relay(req)
	}
	if err := c.sb.RegisterUser(req.From, req.From); err != nil && !errors.Is(err, sandbox.ErrUserExists) {
		return content.Message{}, err
	}
	if req.Group != "" {
		err := c.sb.CreateGroup(req.Group, req.From, c.botID)
		if err != nil && !errors.Is(err, sandbox.ErrGroupExists) {
			return content.Message{}, err
		}
	}
	var quoted *content.Message
	if req.QuoteConversation != "" {
		c.mu.Lock()
		q, ok := c.msgs[msgKey(req.QuoteConversation, req.QuoteSeq)]
		c.mu.Unlock()
		if !ok {
			return content.Message{}, errors.New("the quoted message is not among the recent ones")
		}
		quoted = &q
	}
	m, err := buildMessage(req.From, c.botID, req.Group, req.Text, req.Mentions, quoted, req.Picture)
	if err != nil {
		return content.Message{}, err
	}
	return c.sb.Inject(*m)
}

func (s *Server) apiSend(w http.ResponseWriter, r *http.Request) {
	if s.chat == nil {
		writeErr(w, http.StatusForbidden, "send: the chat panel is off (it needs the embedded sandbox)")
		return
	}
	var req sendRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeErr(w, http.StatusBadRequest, "send: bad request body: %v", err)
		return
	}
	m, err := s.chat.send(req)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "send: %v", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversation": m.ConversationID, "seq": m.Seq})
}

func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request) {
	if s.chat == nil {
		writeJSON(w, http.StatusOK, map[string]any{"events": []event{}})
		return
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	wait := 25 * time.Second
	if r.URL.Query().Get("wait") == "0" {
		wait = 0
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": s.chat.after(r.Context(), after, wait)})
}

// relay sends req through sendAs (a real server).
func (c *chat) relay(req sendRequest) (content.Message, error) {
	var quoted *content.Message
	if req.QuoteConversation != "" {
		c.mu.Lock()
		q, ok := c.msgs[msgKey(req.QuoteConversation, req.QuoteSeq)]
		c.mu.Unlock()
		if !ok {
			return content.Message{}, errors.New("the quoted message is not among the recent ones")
		}
		quoted = &q
	}
	m, err := buildMessage(req.From, c.botID, req.Group, req.Text, req.Mentions, quoted, req.Picture)
	if err != nil {
		return content.Message{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.sendAs(ctx, m); err != nil {
		return content.Message{}, err
	}
	return *m, nil
}
