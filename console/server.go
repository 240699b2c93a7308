package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/router"
	"github.com/openimbot/openimbot/sandbox"
)

//go:embed assets
var assets embed.FS

// ErrAddrInUse is matched by the error of Start when the listen address is
// taken.
var ErrAddrInUse = errors.New("console: address already in use")

// Options configures a Server.
type Options struct {
	// Addr is the listen address, host:port; default "127.0.0.1:8080".
	// Port 0 picks a free port (see Server.URL).
	Addr string
	// Metrics are served on /metrics and give /readyz its answer.
	// Required.
	Metrics *Metrics
	// BotID is the bot's user ID. Required.
	BotID string
	// Router returns the router in use (it may change on reloads); nil:
	// the routing panels are empty.
	Router func() *router.Router
	// Sandbox, if set, is the embedded sandbox the chat panel sends
	// through. Without it (and without SendAs) the chat panel is off; the
	// inspection panels (routing table, findings, traces, counters) stay.
	Sandbox *sandbox.Server
	// SendAs, if set and Sandbox is not, turns the chat panel on against a
	// real server: it sends m as m.SendID (through the server's admin
	// API). The panel then shows the messages the bot receives and what it
	// sends. Off by default: it sends as other users.
	SendAs func(ctx context.Context, m *content.Message) error
	// Users are the user IDs offered in the chat panel; default "alice",
	// "bob". Any other ID can be typed in.
	Users []string
	// Logger; default discards.
	Logger *slog.Logger
}

// Server is the admin HTTP listener: /metrics, /healthz, /readyz and the
// web console (a single page with its assets embedded in the binary, and
// its JSON API under /api/). Build it with New, start it with Start, stop
// it with Close. Safe for concurrent use.
type Server struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux

	mu     sync.Mutex
	ln     net.Listener
	srv    *http.Server
	served chan struct{}

	chat *chat // nil without a sandbox
}

// New builds a Server; it does no I/O.
func New(opts Options) (*Server, error) {
	if opts.Metrics == nil {
		return nil, errors.New("console: Options.Metrics is required")
	}
	if opts.BotID == "" {
		return nil, errors.New("console: Options.BotID is required")
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:8080"
	}
	if len(opts.Users) == 0 {
		opts.Users = []string{"alice", "bob"}
	}
	s := &Server{opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if opts.Sandbox != nil || opts.SendAs != nil {
		s.chat = newChat(opts.Sandbox, opts.SendAs, opts.BotID, s.trace)
		opts.Metrics.setTap(s.chat)
	}
	s.routes()
	return s, nil
}

// Handler returns the server's HTTP handler, for tests and for mounting it
// in another server.
func (s *Server) Handler() http.Handler { return s.mux }

// Start listens on the address and serves in a goroutine until Close. A
// taken address fails with an error matching ErrAddrInUse.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%w: admin.listen %s: another process listens there; choose another port or \"off\"", ErrAddrInUse, s.opts.Addr)
		}
		return fmt.Errorf("console: listen on %s: %w", s.opts.Addr, err)
	}
	srv := &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.ln, s.srv, s.served = ln, srv, make(chan struct{})
	served := s.served
	s.mu.Unlock()
	if s.chat != nil {
		s.chat.start()
	}
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("console: serve", "err", err)
		}
	}()
	return nil
}

// URL returns the console's URL, http://host:port/ (after Start).
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String() + "/"
}

// Close stops the listener and waits for the server goroutine; requests
// in flight get up to a second to finish. Idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	srv, served := s.srv, s.served
	s.srv = nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	if s.chat != nil {
		s.chat.stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		err = srv.Close()
	}
	<-served
	return err
}

func (s *Server) routes() {
	m := s.opts.Metrics
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ok, why := m.Ready()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintln(w, why)
	})
	sub, _ := fs.Sub(assets, "assets")
	static := http.FileServerFS(sub)
	s.mux.Handle("GET /", static)
	s.mux.HandleFunc("GET /api/info", s.apiInfo)
	s.mux.HandleFunc("GET /api/routes", s.apiRoutes)
	s.mux.HandleFunc("POST /api/trace", s.apiTrace)
	s.mux.HandleFunc("GET /api/stats", func(w http.ResponseWriter, r *http.Request) {
		ok, why := m.Ready()
		writeJSON(w, http.StatusOK, map[string]any{"counters": m.counters(), "ready": ok, "readiness": why})
	})
	s.mux.HandleFunc("POST /api/send", s.apiSend)
	s.mux.HandleFunc("GET /api/events", s.apiEvents)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, map[string]string{"error": fmt.Sprintf(format, args...)})
}

func (s *Server) apiInfo(w http.ResponseWriter, r *http.Request) {
	mode := "server"
	if s.opts.Sandbox != nil {
		mode = "sandbox"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"bot": s.opts.BotID, "mode": mode, "chat": s.chat != nil, "users": s.opts.Users,
	})
}

// routeJSON is one row of the routing table.
type routeJSON struct {
	Rank     int      `json:"rank"`
	Name     string   `json:"name"`
	Matcher  string   `json:"matcher"`
	Priority int      `json:"priority"`
	Blocking bool     `json:"blocking"`
	Source   string   `json:"source"`
	Index    []string `json:"index"`
}

func (s *Server) router() *router.Router {
	if s.opts.Router == nil {
		return nil
	}
	return s.opts.Router()
}

func (s *Server) apiRoutes(w http.ResponseWriter, r *http.Request) {
	rt := s.router()
	routes := []routeJSON{}
	findings := []map[string]string{}
	if rt != nil {
		for _, ri := range rt.Routes() {
			routes = append(routes, routeJSON{Rank: ri.Rank + 1, Name: router.RouteName(ri), Matcher: ri.Matcher,
				Priority: ri.Priority, Blocking: ri.Blocking, Source: ri.Source.String(), Index: ri.Index})
		}
		for _, f := range rt.Analyze() {
			findings = append(findings, map[string]string{"kind": f.Kind.String(), "source": f.Route.Source.String(), "message": f.Msg})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"routes": routes, "findings": findings})
}

// traceRequest is a message to trace: text from sender, in a single chat
// with the bot or in group, mentioning users.
type traceRequest struct {
	Text     string   `json:"text"`
	Sender   string   `json:"sender"`
	Group    string   `json:"group"`
	Mentions []string `json:"mentions"`
}

// stepJSON is one step of a trace.
type stepJSON struct {
	Route   string `json:"route"`
	Matcher string `json:"matcher"`
	Via     string `json:"via"`
	Matched bool   `json:"matched"`
	Ran     bool   `json:"ran"`
	Result  string `json:"result"`
	Why     string `json:"why,omitempty"`
}

// traceJSON is a router.Trace for the console.
type traceJSON struct {
	Text       string     `json:"text"`
	Routes     int        `json:"routes"`
	Candidates int        `json:"candidates"`
	Steps      []stepJSON `json:"steps"`
	NotFound   bool       `json:"notFound"`
	Route      string     `json:"route"` // the first route that would run ("" none)
}

// trace traces m through the current router (nil without one).
func (s *Server) trace(m *content.Message) *traceJSON {
	rt := s.router()
	if rt == nil {
		return nil
	}
	tr := rt.TraceAll(bot.NewContext(context.Background(), m, s.opts.BotID))
	out := &traceJSON{Text: tr.Text, Routes: tr.Routes, Candidates: tr.Candidates, NotFound: tr.NotFound, Steps: []stepJSON{}}
	for _, st := range tr.Steps {
		out.Steps = append(out.Steps, stepJSON{Route: router.RouteName(st.Route), Matcher: st.Route.Matcher, Via: st.Via,
			Matched: st.Matched, Ran: st.Ran, Result: st.Result, Why: st.Why})
		if st.Ran && out.Route == "" {
			out.Route = router.RouteName(st.Route)
		}
	}
	return out
}

func (s *Server) apiTrace(w http.ResponseWriter, r *http.Request) {
	var req traceRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeErr(w, http.StatusBadRequest, "trace: bad request body: %v", err)
		return
	}
	if req.Sender == "" {
		req.Sender = s.opts.Users[0]
	}
	m, err := buildMessage(req.Sender, s.opts.BotID, req.Group, req.Text, req.Mentions, nil, "")
	if err != nil {
		writeErr(w, http.StatusBadRequest, "trace: %v", err)
		return
	}
	tr := s.trace(m)
	if tr == nil {
		writeErr(w, http.StatusNotFound, "trace: no router")
		return
	}
	writeJSON(w, http.StatusOK, tr)
}

// buildMessage builds the message a user sends: a picture when picture is
// set, a quote when quoted is, an @-mention in a group when mentions are
// given, plain text otherwise.
func buildMessage(from, botID, group, text string, mentions []string, quoted *content.Message, picture string) (*content.Message, error) {
	var elem content.Element
	var ms []string
	for _, id := range mentions {
		if id = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(id), "@")); id != "" {
			ms = append(ms, id)
		}
	}
	switch {
	case picture != "":
		info := content.PictureInfo{URL: picture, Type: "png"}
		elem = &content.Picture{SourcePicture: info, BigPicture: info, SnapshotPicture: info}
	case len(ms) > 0 && group != "":
		at := content.NewAtText(text, ms...)
		if quoted != nil {
			at.QuoteMessage = content.NewQuotedMessage(quoted)
		}
		elem = at
	case quoted != nil:
		elem = content.NewQuote(text, quoted)
	default:
		if text == "" {
			return nil, errors.New("empty text")
		}
		elem = content.NewText(text)
	}
	m, err := content.NewMessage(elem)
	if err != nil {
		return nil, err
	}
	m.SendID, m.SenderNickname = from, from
	if group != "" {
		m.GroupID, m.SessionType = group, content.GroupChat
		m.ConversationID = content.GroupConversationID(group)
	} else {
		m.RecvID, m.SessionType = botID, content.SingleChat
		m.ConversationID = content.SingleConversationID(from, botID)
	}
	return m, nil
}

// UserMessage returns the message user from would send to the bot (group
// empty) or in group, with text @-mentioning mentions (group only): what
// the console traces and sends, and what `openimbot check -trace` routes.
func UserMessage(from, botID, group, text string, mentions []string) (*content.Message, error) {
	return buildMessage(from, botID, group, text, mentions, nil, "")
}
