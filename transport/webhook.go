package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/openimbot/openimbot/content"
)

// Webhook defaults.
const (
	DefaultWebhookListen    = "127.0.0.1:10006"
	DefaultWebhookPath      = "/callbackExample"
	DefaultWebhookMaxBody   = 1 << 20
	DefaultWebhookReconcile = 30 * time.Second
)

// The after-send callback commands (the last path segment and the
// callbackCommand field).
const (
	CallbackAfterSendSingleMsg = "callbackAfterSendSingleMsgCommand"
	CallbackAfterSendGroupMsg  = "callbackAfterSendGroupMsgCommand"
)

// ErrInvalidCallback is matched by the errors of ParseCallback.
var ErrInvalidCallback = errors.New("transport: invalid callback")

// Callback is an after-send callback (docs/protocol.md §9): the message as
// the server accepted it, before its seq was assigned (Seq is 0).
type Callback struct {
	Command     string          // CallbackAfterSendSingleMsg or CallbackAfterSendGroupMsg
	OperationID string          // the operationID header or field
	Message     content.Message // ConversationID set; Content raw; Seq 0
}

// callbackJSON is the body of an after-send callback.
type callbackJSON struct {
	SendID           *string  `json:"sendID"`
	CallbackCommand  string   `json:"callbackCommand"`
	ServerMsgID      string   `json:"serverMsgID"`
	ClientMsgID      string   `json:"clientMsgID"`
	OperationID      string   `json:"operationID"`
	SenderPlatformID int32    `json:"senderPlatformID"`
	SenderNickname   string   `json:"senderNickname"`
	SessionType      int32    `json:"sessionType"`
	MsgFrom          int32    `json:"msgFrom"`
	ContentType      int32    `json:"contentType"`
	Status           int32    `json:"status"`
	SendTime         int64    `json:"sendTime"`
	CreateTime       int64    `json:"createTime"`
	Content          string   `json:"content"`
	Seq              uint32   `json:"seq"`
	AtUserList       []string `json:"atUserList"`
	FaceURL          string   `json:"faceURL"`
	Ex               string   `json:"ex"`
	RecvID           string   `json:"recvID"`
	GroupID          string   `json:"groupID"`
}

// ParseCallback decodes and validates the body of an after-send callback
// posted under command (the last segment of its path). Errors match
// ErrInvalidCallback and say what is wrong.
func ParseCallback(command string, body []byte) (Callback, error) {
	var in callbackJSON
	if err := json.Unmarshal(body, &in); err != nil {
		return Callback{}, fmt.Errorf("%w: body is not a JSON callback: %v", ErrInvalidCallback, err)
	}
	bad := func(format string, args ...any) (Callback, error) {
		return Callback{}, fmt.Errorf("%w: %s: %s", ErrInvalidCallback, command, fmt.Sprintf(format, args...))
	}
	if in.CallbackCommand != command {
		return bad("callbackCommand %q does not match the path", in.CallbackCommand)
	}
	if in.SendID == nil || *in.SendID == "" {
		return bad("sendID is missing")
	}
	if in.ClientMsgID == "" {
		return bad("clientMsgID is missing")
	}
	if in.ContentType <= 0 {
		return bad("contentType %d is not a content type", in.ContentType)
	}
	m := content.Message{
		SendID: *in.SendID, RecvID: in.RecvID, GroupID: in.GroupID, ClientMsgID: in.ClientMsgID,
		ServerMsgID: in.ServerMsgID, SenderPlatformID: in.SenderPlatformID, SenderNickname: in.SenderNickname,
		SenderFaceURL: in.FaceURL, SessionType: content.SessionType(in.SessionType), MsgFrom: content.MsgFrom(in.MsgFrom),
		ContentType: content.ContentType(in.ContentType), Status: content.Status(in.Status), SendTime: in.SendTime,
		CreateTime: in.CreateTime, Content: []byte(in.Content), AtUserIDList: in.AtUserList, Ex: in.Ex,
	}
	switch command {
	case CallbackAfterSendSingleMsg:
		if in.RecvID == "" {
			return bad("recvID is missing")
		}
		if m.SessionType != content.SingleChat && m.SessionType != content.NotificationChat {
			return bad("sessionType %d in a single-chat callback", in.SessionType)
		}
		m.ConversationID = content.SingleConversationID(m.SendID, m.RecvID)
	case CallbackAfterSendGroupMsg:
		if in.GroupID == "" {
			return bad("groupID is missing")
		}
		if !m.SessionType.IsGroup() {
			return bad("sessionType %d in a group callback", in.SessionType)
		}
		m.ConversationID = content.GroupConversationID(m.GroupID)
	default:
		return bad("not an after-send command")
	}
	return Callback{Command: command, OperationID: in.OperationID, Message: m}, nil
}

// callbackOK is the success answer OpenIM expects from a callback.
var callbackOK = []byte(`{"actionCode":0,"errCode":0,"errMsg":"","errDlt":"","nextCode":0}`)

// WebhookReceiver is the http.Handler of OpenIM's callbacks: it serves
// POST <path>/<command>, reads at most maxBody bytes, answers the success
// body at once and hands each valid after-send callback to handle after
// answering (handle runs on the request's goroutine and should not block
// for long). Other commands (before-send, user online...) are answered with
// success and ignored; invalid bodies are answered with HTTP 400, logged
// and dropped. Safe for concurrent use.
type WebhookReceiver struct {
	path    string
	maxBody int64
	handle  func(Callback)
	log     *slog.Logger
}

// NewWebhookReceiver returns a receiver for path ("" means
// /callbackExample) with a body cap of maxBody bytes (0 means 1 MiB).
func NewWebhookReceiver(path string, maxBody int64, handle func(Callback), log *slog.Logger) (*WebhookReceiver, error) {
	if path == "" {
		path = DefaultWebhookPath
	}
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("transport: webhook path %q does not start with /", path)
	}
	if maxBody < 0 {
		return nil, fmt.Errorf("transport: webhook body cap %d is negative", maxBody)
	}
	if maxBody == 0 {
		maxBody = DefaultWebhookMaxBody
	}
	if handle == nil {
		return nil, errors.New("transport: webhook: nil handler")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &WebhookReceiver{path: strings.TrimRight(path, "/"), maxBody: maxBody, handle: handle, log: log}, nil
}

func (rv *WebhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, rv.path+"/")
	if !ok || rest == "" || strings.Contains(rest, "/") {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rv.maxBody))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			rv.log.Warn("transport: webhook: body over the cap; dropped", "command", rest, "limit", rv.maxBody,
				"operationID", r.Header.Get("operationID"))
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		rv.log.Warn("transport: webhook: read body", "command", rest, "err", err)
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if rest != CallbackAfterSendSingleMsg && rest != CallbackAfterSendGroupMsg {
		rv.log.Debug("transport: webhook: command ignored", "command", rest)
		writeCallbackOK(w)
		return
	}
	cb, err := ParseCallback(rest, body)
	if err != nil {
		rv.log.Warn("transport: webhook: invalid callback; dropped", "err", err, "operationID", r.Header.Get("operationID"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"actionCode":1,"errCode":1001,"errMsg":"ArgsError","errDlt":"invalid callback","nextCode":0}`))
		return
	}
	if cb.OperationID == "" {
		cb.OperationID = r.Header.Get("operationID")
	}
	writeCallbackOK(w)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	rv.handle(cb)
}

func writeCallbackOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(callbackOK)
}

// WebhookConfig configures a WebhookSource. Zero values mean the documented
// defaults.
type WebhookConfig struct {
	// Poll is the reconciliation poller's configuration (API, UserID and
	// Token are required); its Interval and MaxInterval are set to
	// Reconcile.
	Poll PollConfig
	// Listen is the TCP address of the callback listener; default
	// 127.0.0.1:10006 (loopback: expose it on purpose).
	Listen string
	// Listener, when set, is used instead of listening on Listen.
	Listener net.Listener
	// Path is the base path of the callbacks; default /callbackExample.
	Path string
	// MaxBody caps a callback body; default 1 MiB.
	MaxBody int64
	// Reconcile is the period of the full sync by seq; default 30s.
	Reconcile time.Duration
}

// WebhookSource receives through OpenIM's after-send callbacks (webhook
// mode). A callback for a message to the bot (a single chat to it, a group
// it is in) makes it sync by seq now, as a poll that saw new messages
// would, and look again quickly until a pull returned that message: the
// callback itself carries no seq, so messages are delivered from the pulls,
// in seq order, and the callback's message ID only says which one to wait
// for (a repeated callback is ignored). Every Reconcile, and at start, it
// syncs in full, which recovers what was sent while the bot was down and
// callbacks the server dropped. Its events, GetNewestSeq and PullRange are
// the embedded Poller's. Methods are safe for concurrent use.
type WebhookSource struct {
	*Poller
	cfg  WebhookConfig
	recv *WebhookReceiver
	log  *slog.Logger

	mu        sync.Mutex
	addr      string
	lastProbe time.Time // last poke for a group not known yet
}

// NewWebhookSource validates cfg and returns a source; it does no I/O.
func NewWebhookSource(cfg WebhookConfig) (*WebhookSource, error) {
	if cfg.Reconcile < 0 {
		return nil, fmt.Errorf("transport: webhook reconcile %v is negative", cfg.Reconcile)
	}
	if cfg.Reconcile == 0 {
		cfg.Reconcile = DefaultWebhookReconcile
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultWebhookListen
	}
	cfg.Poll.Interval, cfg.Poll.MaxInterval = cfg.Reconcile, cfg.Reconcile
	p, err := NewPoller(cfg.Poll)
	if err != nil {
		return nil, err
	}
	s := &WebhookSource{Poller: p, cfg: cfg, log: p.log}
	s.recv, err = NewWebhookReceiver(cfg.Path, cfg.MaxBody, s.onCallback, p.log)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Handler returns the callback handler (to mount on another server).
func (s *WebhookSource) Handler() http.Handler { return s.recv }

// Addr returns the listener's address once Run listens ("" before).
func (s *WebhookSource) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// onCallback keeps the callbacks of messages for the bot.
func (s *WebhookSource) onCallback(cb Callback) {
	self := s.cfg.Poll.UserID
	m := &cb.Message
	if m.SendID == self {
		return // the bot's own message: its seq is found with the next sync
	}
	switch cb.Command {
	case CallbackAfterSendSingleMsg:
		if m.RecvID != self {
			return
		}
	case CallbackAfterSendGroupMsg:
		if !s.Known(m.ConversationID) {
			// A group the bot may just have joined, or one it is not in:
			// look at most once a second.
			s.mu.Lock()
			probe := time.Since(s.lastProbe) >= time.Second
			if probe {
				s.lastProbe = time.Now()
			}
			s.mu.Unlock()
			if probe {
				s.Poke()
			}
			return
		}
	}
	s.Expect(m.ClientMsgID, m.ConversationID, m.SendTime)
}

// Run listens for callbacks and polls until ctx ends, Close, or the token
// is refused (see Poller.Run). A listen failure is returned at once.
func (s *WebhookSource) Run(ctx context.Context) error {
	ln := s.cfg.Listener
	if ln == nil {
		var lc net.ListenConfig
		var err error
		ln, err = lc.Listen(ctx, "tcp", s.cfg.Listen)
		if err != nil {
			s.Poller.end()
			return fmt.Errorf("transport: webhook listen %s: %w", s.cfg.Listen, err)
		}
	}
	s.mu.Lock()
	s.addr = ln.Addr().String()
	s.mu.Unlock()
	srv := &http.Server{Handler: s.recv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("transport: webhook server", "err", err)
		}
	}()
	s.log.Info("transport: webhook listening", "addr", s.addr, "path", s.recv.path)
	err := s.Poller.Run(ctx)
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		srv.Close()
	}
	wg.Wait()
	return err
}
