package sandbox

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// Server is a running sandbox: a websocket gateway and an HTTP API over one
// shared store. All methods are safe for concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger

	lifeMu sync.Mutex // serialises Close and Restart

	mu     sync.Mutex // guards everything below and the store
	st     *store
	closed bool
	conns  map[*conn]struct{}
	byUser map[string][]*conn // the connections of each user, in connection order
	subs   map[*subscriber]struct{}
	// The subscribers again, indexed for acceptLocked: those of every
	// sender, and those of SubscribeFrom by sender.
	subsAll  []*subscriber
	subsFrom map[string][]*subscriber
	wsLn     net.Listener
	apiLn    net.Listener
	wsSrv    *http.Server
	apiSrv   *http.Server
	wsAddr   string // resolved host:port, kept across Restart
	apiAdr   string

	// faults (guarded by mu)
	dropEvery  int
	refuseLeft int
	refuseCode int
	withhold   bool
	delay      atomic.Int64 // time.Duration of DelayFrames

	hooks    *webhooker        // after-send callbacks (webhook.go), nil when off
	lastSend map[string]*int64 // last sendTime per conversation (httpmsg.go)

	serveWG sync.WaitGroup // http.Server.Serve goroutines
	connWG  sync.WaitGroup // connection goroutines

	routes  map[string]apiRoute // read only after Start
	connSeq atomic.Uint64
	stats   counters
}

// Start opens the store, listens on cfg.WSAddr and cfg.APIAddr and serves
// in the background until Close. ctx bounds only the start-up; cancel it
// after Start returns has no effect (call Close).
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sandbox: start: %w", err)
	}
	st, err := openStore(cfg.StorePath, cfg.MaxHistory)
	if err != nil {
		return nil, err
	}
	st.log = cfg.Logger
	if st.torn > 0 {
		cfg.Logger.Warn("sandbox: dropped the torn last line of the store (a record an interrupted run did not finish writing)", "store", cfg.StorePath, "bytes", st.torn)
	}
	s := &Server{
		cfg:    cfg,
		log:    cfg.Logger,
		st:     st,
		conns:  map[*conn]struct{}{},
		byUser: map[string][]*conn{},
		subs:   map[*subscriber]struct{}{},
		wsAddr: cfg.WSAddr,
		apiAdr: cfg.APIAddr,
	}
	s.stats.requests = map[int32]int64{}
	s.routes = apiRoutes()
	maps.Copy(s.routes, groupRoutes())
	if err := s.listen(ctx); err != nil {
		st.close()
		return nil, err
	}
	s.SetWebhook(cfg.Webhook)
	s.log.Info("sandbox listening", "ws", s.WSURL(), "api", s.APIURL(), "store", cfg.StorePath)
	return s, nil
}

// Serve runs a sandbox until ctx ends, then closes it. It is what
// `openimbot sandbox` runs; it returns a start-up error, or the error of
// Close after ctx ends.
func Serve(ctx context.Context, cfg Config) error {
	s, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return s.Close()
}

// SetMaxConnections changes the connection count at which handshakes fail
// with 1601 (n <= 0 restores the default 100000). Open connections are not
// closed.
func (s *Server) SetMaxConnections(n int) {
	if n <= 0 {
		n = DefaultMaxConnections
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.MaxConnections = n
}

// listen opens both listeners and starts serving. s.mu must not be held.
func (s *Server) listen(ctx context.Context) error {
	var lc net.ListenConfig
	wsLn, err := lc.Listen(ctx, "tcp", s.wsAddr)
	if err != nil {
		return fmt.Errorf("sandbox: listen ws %s: %w", s.wsAddr, err)
	}
	apiLn, err := lc.Listen(ctx, "tcp", s.apiAdr)
	if err != nil {
		wsLn.Close()
		return fmt.Errorf("sandbox: listen api %s: %w", s.apiAdr, err)
	}
	wsSrv := &http.Server{Handler: http.HandlerFunc(s.serveWS), ReadHeaderTimeout: 10 * time.Second}
	apiSrv := &http.Server{Handler: http.HandlerFunc(s.serveAPI), ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.wsLn, s.apiLn = wsLn, apiLn
	s.wsSrv, s.apiSrv = wsSrv, apiSrv
	s.wsAddr = wsLn.Addr().String()
	s.apiAdr = apiLn.Addr().String()
	s.mu.Unlock()
	s.serveWG.Add(2)
	go func() { defer s.serveWG.Done(); wsSrv.Serve(wsLn) }()
	go func() { defer s.serveWG.Done(); apiSrv.Serve(apiLn) }()
	return nil
}

// stopServing closes listeners, HTTP servers and every connection, and waits
// for their goroutines.
func (s *Server) stopServing() {
	s.mu.Lock()
	wsSrv, apiSrv := s.wsSrv, s.apiSrv
	s.wsSrv, s.apiSrv = nil, nil
	for c := range s.conns {
		c.drop("server stopping")
	}
	s.mu.Unlock()
	if wsSrv != nil {
		wsSrv.Close()
	}
	if apiSrv != nil {
		apiSrv.Close()
	}
	s.serveWG.Wait()
	// Handshakes in flight when the listener closed may still register a
	// connection; drop until none are left.
	for {
		s.mu.Lock()
		for c := range s.conns {
			c.drop("server stopping")
		}
		n := len(s.conns)
		s.mu.Unlock()
		s.connWG.Wait()
		if n == 0 {
			return
		}
	}
}

// WSURL returns the gateway URL, e.g. "ws://127.0.0.1:10001".
func (s *Server) WSURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "ws://" + s.wsAddr
}

// APIURL returns the HTTP API base URL, e.g. "http://127.0.0.1:10002".
func (s *Server) APIURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "http://" + s.apiAdr
}

// AdminUserID returns the configured administrator user ID.
func (s *Server) AdminUserID() string { return s.cfg.AdminUserID }

// Close stops serving, closes every connection and every Subscribe channel,
// and closes the store file. It is idempotent; later calls return nil.
func (s *Server) Close() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.stopWebhook()
	s.stopServing()
	s.mu.Lock()
	for sub := range s.subs {
		sub.stop()
		delete(s.subs, sub)
	}
	s.subsAll, s.subsFrom = nil, nil
	err := s.st.close()
	s.mu.Unlock()
	s.log.Info("sandbox closed")
	return err
}

// Restart drops every connection, closes both listeners and listens again
// on the same ports, keeping the store, users and tokens. Clients must
// reconnect. It fails if the server is closed or a port was taken meanwhile.
func (s *Server) Restart() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.mu.Unlock()
	s.stopServing()
	if err := s.listen(context.Background()); err != nil {
		return fmt.Errorf("sandbox: restart: %w", err)
	}
	s.log.Info("sandbox restarted", "ws", s.WSURL(), "api", s.APIURL())
	return nil
}

// RegisterUser registers a user. Registering an existing ID returns an error
// that matches ErrUserExists (and is a *CodeError with code 1102).
func (s *Server) RegisterUser(userID, nickname string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.registerLocked(userRec{UserID: userID, Nickname: nickname})
}

func (s *Server) registerLocked(u userRec) error {
	if s.closed {
		return ErrClosed
	}
	if u.UserID == "" {
		return codeErr(CodeArgs, "userID is empty")
	}
	if _, ok := s.st.users[u.UserID]; ok {
		return codeErr(CodeRegisteredAlready, "userID "+u.UserID+" is registered already")
	}
	if u.CreateTime == 0 {
		u.CreateTime = time.Now().UnixMilli()
	}
	return s.st.persist(&record{K: "user", User: &u})
}

// CreateGroup creates a group with the given members (the first member is
// the owner). A group ID that exists returns an error matching
// ErrGroupExists. Members need not be registered.
func (s *Server) CreateGroup(groupID string, memberIDs ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	owner := ""
	if len(memberIDs) > 0 {
		owner = memberIDs[0]
	}
	return s.createGroupLocked(&groupRec{GroupID: groupID, Name: groupID, Owner: owner, Members: memberIDs})
}

func (s *Server) createGroupLocked(g *groupRec) error {
	if s.closed {
		return ErrClosed
	}
	if g.GroupID == "" {
		return codeErr(CodeArgs, "groupID is empty")
	}
	if _, ok := s.st.groups[g.GroupID]; ok {
		return codeErr(CodeGroupIDExisted, "groupID "+g.GroupID+" exists")
	}
	seen := map[string]bool{}
	var members []string
	for _, m := range g.Members {
		if m == "" {
			return codeErr(CodeArgs, "empty member user ID")
		}
		if !seen[m] {
			seen[m] = true
			members = append(members, m)
		}
	}
	g.Members = members
	if g.CreateTime == 0 {
		g.CreateTime = time.Now().UnixMilli()
	}
	return s.st.persist(&record{K: "group", Group: g})
}

// GroupMembers returns the members of a group, or nil if it does not exist.
func (s *Server) GroupMembers(groupID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.st.groups[groupID]; g != nil {
		return append([]string(nil), g.Members...)
	}
	return nil
}

// UserToken issues a user token for (userID, platformID) as
// /auth/get_user_token does: platformID 10 fails with 1002 (matching
// ErrAdminPlatform), the admin user with 1002, an unregistered user with
// 1004 (matching ErrUnknownUser), a notification account (appMangerLevel
// 3 or more) with 1001; platformID must be 1–11. Under multi-login policy 1
// every older token of that user and platform is marked kicked: its next
// handshake fails with 1506, and connections still using it receive 2002
// when the new token logs in (as in OpenIM, issuing alone kicks no
// connection).
func (s *Server) UserToken(userID string, platformID int32) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", ErrClosed
	}
	// OpenIM's checks, in its order and with its codes.
	if platformID == adminPlatform {
		e := codeErr(CodeNoPermission, "platformID invalid. platformID must not be adminPlatformID")
		e.base = ErrAdminPlatform
		return "", e
	}
	if userID == s.cfg.AdminUserID {
		return "", codeErr(CodeNoPermission, "don't get Admin token")
	}
	u, ok := s.st.users[userID]
	if !ok {
		e := codeErr(CodeRecordNotFound, "record not found")
		e.base = ErrUnknownUser
		return "", e
	}
	if u.AppMangerLevel >= appNotificationAdmin {
		return "", codeErr(CodeArgs, "app account can`t get token")
	}
	if !validPlatform(platformID) {
		// OpenIM would issue it, but no handshake could use it.
		return "", codeErr(CodeArgs, "platformID "+strconv.Itoa(int(platformID))+" is invalid")
	}
	return s.issueLocked(userID, platformID)
}

// AdminToken issues a token for the admin user on platform 10, as
// /auth/get_admin_token does with the right secret.
func (s *Server) AdminToken() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", ErrClosed
	}
	return s.issueLocked(s.cfg.AdminUserID, adminPlatform)
}

// issueLocked signs and records a token; for non-admin users it applies
// policy 1 (older tokens of the same platform kicked, their connections
// kicked).
func (s *Server) issueLocked(userID string, platformID int32) (string, error) {
	now := time.Now()
	c := claims{UserID: userID, PlatformID: platformID, Exp: now.Add(s.cfg.TokenTTL).Unix(), Iat: now.Unix() - 5}
	tok := signToken(s.cfg.Secret, c)
	// Two tokens issued within one second would be identical; make the new
	// one differ so policy 1 can tell them apart.
	for s.st.tokens[tokenKey(tok)] != nil {
		c.Exp++
		tok = signToken(s.cfg.Secret, c)
	}
	key := tokenKey(tok)
	if userID != s.cfg.AdminUserID {
		// Policy 1 at issuance only marks the older tokens kicked, as
		// OpenIM's CreateToken does; connections that use them are kicked
		// when the new token logs in (register).
		if err := s.markTokensKickedLocked(userID, platformID, key); err != nil {
			return "", err
		}
	}
	if err := s.st.persist(&record{K: "token", Token: &tokenRec{Key: key, UserID: userID, PlatformID: platformID, Exp: c.Exp}}); err != nil {
		return "", err
	}
	return tok, nil
}

// kickTokensLocked marks every token of (userID, platformID) except keep as
// kicked and kicks the connections that use them. platformID 0 means all
// platforms.
func (s *Server) kickTokensLocked(userID string, platformID int32, keep, reason string) error {
	if err := s.markTokensKickedLocked(userID, platformID, keep); err != nil {
		return err
	}
	for _, c := range s.byUser[userID] {
		if (platformID == 0 || c.platformID == platformID) && c.tokenKey != keep {
			c.kick(reason)
		}
	}
	return nil
}

// markTokensKickedLocked marks every token of (userID, platformID) except
// keep as kicked. platformID 0 means all platforms.
func (s *Server) markTokensKickedLocked(userID string, platformID int32, keep string) error {
	for _, t := range s.st.tokens {
		if t.UserID != userID || t.Key == keep || t.Kicked || (platformID != 0 && t.PlatformID != platformID) {
			continue
		}
		nt := *t
		nt.Kicked = true
		if err := s.st.persist(&record{K: "token", Token: &nt}); err != nil {
			return err
		}
	}
	return nil
}

// Kick sends 2002 to userID's connections on platformID (0 = every
// platform), closes them and marks their tokens kicked, as
// /auth/force_logout does.
func (s *Server) Kick(userID string, platformID int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if err := s.kickTokensLocked(userID, platformID, "", "kicked"); err != nil {
		s.log.Error("sandbox: kick", "user", userID, "err", err)
	}
}

// SendText injects a single-chat text message from fromUserID to toUserID:
// it is stored, pushed to both users' connections and returned with its
// seq.
func (s *Server) SendText(fromUserID, toUserID, text string) (content.Message, error) {
	return s.injectText(content.Message{SendID: fromUserID, RecvID: toUserID, SessionType: content.SingleChat}, text)
}

// SendGroupText injects a group text message from fromUserID (who need not
// be a member) to groupID, which must exist.
func (s *Server) SendGroupText(fromUserID, groupID, text string) (content.Message, error) {
	return s.injectText(content.Message{SendID: fromUserID, GroupID: groupID, SessionType: content.GroupChat}, text)
}

// injectText injects m as a text message of text.
func (s *Server) injectText(m content.Message, text string) (content.Message, error) {
	m.ContentType = content.TypeText
	md := fromContent(&m)
	var elem content.Element
	md.Content, elem = textContent(text) // new, so not copied as Inject copies a caller's
	return s.inject(md, elem)
}

// Inject stores and pushes m as if its sender had sent it. SendID, the
// target (RecvID for single and notification chats, GroupID for groups) and
// Content are required; SessionType defaults to SingleChat, MsgFrom to
// FromUser, SenderPlatformID to 7. ClientMsgID (if empty), ServerMsgID,
// SendTime (if 0), CreateTime (if 0) and Seq are filled in; Status 0 or 1
// becomes 2 (sent), any other Status is kept as OpenIM keeps it. Options
// are honoured: history=false makes the message online only (pushed with
// seq 0, not stored); senderSync=false skips the sender's echo in a single
// chat (group messages reach every member, the sender included);
// isNotNotification=false puts it in the n_ stream. The returned message
// carries ConversationID and Seq.
func (s *Server) Inject(m content.Message) (content.Message, error) {
	return s.inject(fromContent(&m), nil)
}

// inject is Inject of md, a copy of the caller's message. elem, if not
// nil, is the element md.Content decodes to, for the returned message.
func (s *Server) inject(md *sdkws.MsgData, elem content.Element) (content.Message, error) {
	if md.SessionType == 0 {
		md.SessionType = int32(content.SingleChat)
	}
	if md.MsgFrom == 0 {
		md.MsgFrom = int32(content.FromUser)
	}
	if md.SenderPlatformID == 0 {
		md.SenderPlatformID = 7
	}
	if md.CreateTime == 0 {
		md.CreateTime = time.Now().UnixMilli()
	}
	if md.ClientMsgID == "" {
		md.ClientMsgID = newID()
	}
	if md.Status == 0 {
		md.Status = int32(content.StatusSending) // as an SDK sends it
	}
	if cerr := validateMsg(md); cerr != nil {
		return content.Message{}, cerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return content.Message{}, ErrClosed
	}
	if md.SessionType == int32(content.GroupChat) && s.st.groups[md.GroupID] == nil {
		return content.Message{}, codeErr(CodeGroupIDNotFound, "group "+md.GroupID+" does not exist")
	}
	convID, err := s.acceptLocked(md, "")
	if err != nil {
		return content.Message{}, err
	}
	return toContentElem(convID, md, elem), nil
}

// validateMsg applies the 1003 field checks (docs/protocol.md §7.7).
func validateMsg(md *sdkws.MsgData) *CodeError {
	switch {
	case md.SendID == "":
		return codeErr(CodeArgs, "sendID is empty")
	case len(md.Content) == 0:
		return codeErr(CodeArgs, "content is empty")
	case md.ContentType == 0:
		return codeErr(CodeArgs, "contentType is empty")
	}
	switch content.SessionType(md.SessionType) {
	case content.SingleChat:
		if md.RecvID == "" {
			return codeErr(CodeArgs, "recvID is empty")
		}
		if md.ContentType == int32(content.TypeOANotification) {
			return codeErr(CodeArgs, "contentType 1400 needs sessionType 4")
		}
	case content.GroupChat:
		if md.GroupID == "" {
			return codeErr(CodeArgs, "groupID is empty")
		}
	case content.NotificationChat:
		if md.RecvID == "" {
			return codeErr(CodeArgs, "recvID is empty")
		}
		if md.ContentType != int32(content.TypeOANotification) {
			return codeErr(CodeArgs, "sessionType 4 needs contentType 1400")
		}
	default:
		return codeErr(CodeArgs, "unknown sessionType "+strconv.Itoa(int(md.SessionType)))
	}
	return nil
}

// acceptLocked finishes a validated message: server fields, seq, store,
// subscribers, pushes. It returns the conversation ID. md is kept and must
// not be changed afterwards. s.mu is held.
func (s *Server) acceptLocked(md *sdkws.MsgData, operationID string) (string, error) {
	md.ServerMsgID = newID()
	if md.Status == int32(content.StatusSending) {
		// OpenIM turns "sending" into "sent" and keeps any other status.
		md.Status = int32(content.StatusSent)
	}
	md.Seq = 0
	if md.ContentType == int32(content.TypeTyping) && len(md.Options) > 0 {
		// OpenIM switches typing messages to online only by setting keys in
		// the options map, which does nothing when the message came without
		// options: such a typing message is stored like any other.
		for _, k := range []string{"history", "persistent", "senderSync", "conversationUpdate",
			"senderConversationUpdate", "unreadCount", "offlinePush"} {
			md.Options[k] = false
		}
	}
	convID := conversationID(md.SessionType, md.SendID, md.RecvID, md.GroupID, md.Options)
	md.SendTime = s.sendTimeLocked(convID, md.SendTime)
	s.webhookLocked(md, operationID)
	if option(md.Options, "history") {
		if err := s.st.addMsg(convID, md); err != nil {
			return "", err
		}
	}
	s.stats.messages++
	if len(s.subs) > 0 {
		// One conversion for every subscriber that wants the message.
		var out content.Message
		converted := false
		for _, subs := range [2][]*subscriber{s.subsAll, s.subsFrom[md.SendID]} {
			for _, sub := range subs {
				if !converted {
					out, converted = toContent(convID, md), true
				}
				sub.add(out)
			}
		}
	}
	if !s.withhold {
		s.pushLocked(convID, md, operationID)
	}
	return convID, nil
}

// Messages returns the stored messages of a conversation in ascending seq
// order, without deleted ones and without those evicted by
// Config.MaxHistory.
func (s *Server) Messages(conversationID string) []content.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.convs[conversationID]
	if c == nil {
		return nil
	}
	out := make([]content.Message, 0, len(c.msgs))
	for _, m := range c.msgs {
		if m != nil {
			out = append(out, toContent(conversationID, m))
		}
	}
	return out
}

// MaxSeq returns the highest seq assigned in a conversation (0 if none).
// It is not lowered by Config.MaxHistory evictions.
func (s *Server) MaxSeq(conversationID string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.st.convs[conversationID]; c != nil {
		return c.maxSeq()
	}
	return 0
}

// MinSeq returns a conversation's min seq: 0 while it keeps every message
// it was sent, else the oldest seq it still keeps; Config.MaxHistory
// raises it as older messages are evicted, and pulls leave out seqs below
// it, as OpenIM does for messages it cleared.
func (s *Server) MinSeq(conversationID string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.minSeq(conversationID)
}

// DeleteMessage deletes the message with seq from a conversation; later
// pulls of that seq return a status-4 placeholder. It returns an error
// matching ErrNotFound if there is no such message.
func (s *Server) DeleteMessage(conversationID string, seq int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	c := s.st.convs[conversationID]
	if c == nil || c.get(seq) == nil {
		return fmt.Errorf("%w: %s seq %d", ErrNotFound, conversationID, seq)
	}
	return s.st.persist(&record{K: "del", Conv: conversationID, Seq: seq})
}

// ConversationID returns the conversation ID of a single chat between two
// users (si_<a>_<b>, sorted); the same as content.SingleConversationID.
func ConversationID(userA, userB string) string { return content.SingleConversationID(userA, userB) }

// GroupConversationID returns the conversation ID of a group chat (sg_<id>);
// the same as content.GroupConversationID.
func GroupConversationID(groupID string) string { return content.GroupConversationID(groupID) }

// textContent returns the content of a text message: what encoding/json
// writes for {"content": text}. A text that encoding/json writes as it is
// (no quote, backslash, control character, <, >, &, U+2028 or U+2029,
// valid UTF-8) is copied in directly, sparing json.Marshal's allocations,
// and then elem is the element the content decodes to: text itself.
func textContent(text string) (b []byte, elem content.Element) {
	if !jsonVerbatim(text) {
		b, _ = jsonMarshal(struct {
			Content string `json:"content"`
		}{text})
		return b, nil
	}
	const head, tail = `{"content":"`, `"}`
	b = make([]byte, 0, len(head)+len(text)+len(tail))
	return append(append(append(b, head...), text...), tail...), &content.Text{Content: text}
}

// jsonVerbatim reports whether encoding/json writes s between its quotes
// unchanged.
func jsonVerbatim(s string) bool {
	// Skip 8 plain ASCII bytes at a time; the byte loop checks the rest.
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if jsonSpecial8(x) {
			break
		}
	}
	ascii := true
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		case c >= 0x80:
			ascii = false
		}
	}
	return ascii || utf8.ValidString(s) && !strings.ContainsAny(s, "\u2028\u2029")
}

// jsonSpecial8 reports whether any of the 8 bytes in x may be one
// encoding/json escapes in a string or is not ASCII (a false report only
// follows a true one in a lower byte).
func jsonSpecial8(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	return ((x-lo*0x20)|(x^(lo*'"')-lo)|(x^(lo*'\\')-lo)|(x^(lo*'<')-lo)|(x^(lo*'>')-lo)|(x^(lo*'&')-lo)|x)&hi != 0
}

// newID returns a 32-hex-digit message ID like OpenIM's md5 based ones
// (docs/protocol.md §7.6). IDs need to be unique, not secret: the first
// half is random (math/rand/v2, no system call), the second a bijective
// mix of a per-process counter and a random key, so no two IDs of one
// process are equal. It costs a tenth of an md5 sum.
func newID() string {
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], rand.Uint64())
	binary.BigEndian.PutUint64(raw[8:], mix64(idSeq.Add(1)^idKey))
	var out [32]byte
	hex.Encode(out[:], raw[:])
	return string(out[:])
}

var (
	idSeq atomic.Uint64
	idKey = rand.Uint64()
)

// mix64 is splitmix64's finalizer, a bijection of the uint64s.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

const adminPlatform int32 = 10

// appAdmin and appNotificationAdmin are OpenIM's appMangerLevel values of an
// app administrator and of a notification account.
const (
	appAdmin             int32 = 2
	appNotificationAdmin int32 = 3
)

func validPlatform(p int32) bool { return p >= 1 && p <= 11 }
