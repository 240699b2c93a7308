package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/transport"
)

// chatSettle is how long `chat` waits, with input not from a terminal, for
// the replies to a line before it sends the next one (and at the end of
// input): until chatQuiet has passed without a message after the first
// reply, or chatSettle without any reply.
const (
	chatSettle = 5 * time.Second
	chatQuiet  = 500 * time.Millisecond
)

func (c *cli) chatCmd(args []string) int {
	fs := c.flags("chat", "[-to BOT] [-as USER] [-group GROUP] [-ws ADDR] [-api ADDR] [-secret SECRET] [-admin USER]")
	to := fs.String("to", "bot", "the bot's user ID")
	as := fs.String("as", "alice", "the user to chat as; registered first if the server does not know it")
	group := fs.String("group", "", "chat in this group (the user must be a member) instead of one to one")
	ws := fs.String("ws", "127.0.0.1:10001", "the OpenIM gateway (ws://host:port)")
	api := fs.String("api", "127.0.0.1:10002", "the OpenIM HTTP API (http://host:port)")
	secret := fs.String("secret", sandbox.DefaultSecret, "the server's admin secret (OpenIM's share.secret); the sandbox's by default")
	admin := fs.String("admin", sandbox.DefaultAdminUserID, "an admin user ID of the server")
	platform := fs.Int("platform", 3, "the platform the user logs in as, 1-11 (default 3, Windows, so that a user's other sessions stay logged in)")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if *to == "" || *as == "" || *as == *to {
		c.errorf("chat: -to and -as must be two different users")
		return exitUsage
	}
	if *platform < 1 || *platform > 11 {
		c.errorf("chat: -platform must be an OpenIM platform ID from 1 to 11")
		return exitUsage
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for sig := range c.signals {
			if sig != syscall.SIGHUP {
				cancel()
				return
			}
		}
	}()
	ch := &chat{cli: c, to: *to, as: *as, group: *group}
	err := ch.run(ctx, chatServer{ws: *ws, api: *api, secret: *secret, admin: *admin, platform: int32(*platform)})
	if err != nil && !errors.Is(err, context.Canceled) {
		c.errorf("chat: %v", err)
		return exitRuntime
	}
	return exitOK
}

type chatServer struct {
	ws, api, secret, admin string
	platform               int32
}

// chat is one `openimbot chat`: a user's session with a bot.
type chat struct {
	*cli
	to, as, group string

	mu       sync.Mutex
	received int       // messages printed
	lastAt   time.Time // when the last one was printed
	changed  chan struct{}
}

func (ch *chat) run(ctx context.Context, srv chatServer) error {
	api, err := transport.NewAPI(urlOf(srv.api, "http"))
	if err != nil {
		return err
	}
	adminToken, err := api.GetAdminToken(ctx, srv.secret, srv.admin)
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	known, err := api.GetUsersInfo(ctx, adminToken, ch.as, ch.to)
	if err != nil {
		return fmt.Errorf("users: %w", err)
	}
	var haveUser, haveBot bool
	for _, u := range known {
		haveUser = haveUser || u.UserID == ch.as
		haveBot = haveBot || u.UserID == ch.to
	}
	if !haveBot {
		return fmt.Errorf("the server has no user %q (is the bot running? -to names it)", ch.to)
	}
	if !haveUser {
		if err := api.UserRegister(ctx, adminToken, transport.UserInfo{UserID: ch.as, Nickname: ch.as}); err != nil {
			return fmt.Errorf("register %s: %w", ch.as, err)
		}
		fmt.Fprintf(ch.stderr, "registered the user %s\n", ch.as)
	}
	token, err := api.GetUserToken(ctx, adminToken, ch.as, srv.platform)
	if err != nil {
		return fmt.Errorf("token for %s: %w", ch.as, err)
	}
	client, err := transport.New(transport.Config{WSAddr: urlOf(srv.ws, "ws"), UserID: ch.as, Token: token, PlatformID: srv.platform})
	if err != nil {
		return err
	}
	defer client.Close()
	runErr := make(chan error, 1)
	go func() { runErr <- client.Run(ctx) }()

	ch.changed = make(chan struct{})
	connected := make(chan struct{})
	events := make(chan error, 1)
	go func() { events <- ch.readEvents(ctx, client, connected) }()
	select {
	case <-connected:
	case err := <-events:
		return err
	case err := <-runErr:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
	where := ch.to
	if ch.group != "" {
		where = "group " + ch.group
	}
	terminal := ch.stdinIsTerminal()
	if terminal {
		fmt.Fprintf(ch.stderr, "Chatting with %s as %s. Type a message and press Enter; Ctrl-D quits.\n", where, ch.as)
	}
	eof := make(chan struct{})
	lines := readLines(ch.stdin, eof)
	for {
		select {
		case line := <-lines:
			if !terminal {
				fmt.Fprintf(ch.stdout, "%s> %s\n", ch.as, line)
			}
			before := ch.count()
			if err := ch.send(ctx, client, line); err != nil {
				return err
			}
			if !terminal {
				ch.settle(ctx, before)
			}
		case <-eof:
			if terminal { // piped lines were settled one by one
				select {
				case <-time.After(chatQuiet):
				case <-ctx.Done():
				}
			}
			return nil
		case err := <-events:
			return err
		case err := <-runErr:
			return err
		case <-ctx.Done():
			return nil
		}
	}
}

// send sends one line of text to the bot or the group.
func (ch *chat) send(ctx context.Context, client *transport.Client, line string) error {
	m := &content.Message{SendID: ch.as, RecvID: ch.to, SessionType: content.SingleChat, Elem: content.NewText(line)}
	if ch.group != "" {
		m.RecvID, m.GroupID, m.SessionType = "", ch.group, content.GroupChat
	}
	if _, err := client.SendMsg(ctx, m); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// readEvents prints the messages of the conversation that others send,
// closes connected at the first connection, and returns the error that
// ends the session (kicked, token rejected).
func (ch *chat) readEvents(ctx context.Context, client *transport.Client, connected chan struct{}) error {
	first := true
	for {
		ev, err := client.NextEvent(ctx)
		if err != nil {
			return nil // closed or cancelled: the session is over
		}
		switch ev.Kind {
		case transport.EventConnected:
			if first {
				first = false
				close(connected)
			}
		case transport.EventKicked:
			return errors.New("logged out: another session of this user on the same platform logged in")
		case transport.EventTokenInvalid:
			return fmt.Errorf("the server rejected the token: %w", ev.Err)
		case transport.EventPush:
			for i := range ev.Messages {
				m := &ev.Messages[i]
				if m.SendID == ch.as || !ch.inConversation(m) {
					continue
				}
				ch.mu.Lock()
				writeChatLine(ch.stdout, m.SendID, m)
				ch.received++
				ch.lastAt = time.Now()
				close(ch.changed)
				ch.changed = make(chan struct{})
				ch.mu.Unlock()
			}
		}
	}
}

func (ch *chat) inConversation(m *content.Message) bool {
	if ch.group != "" {
		return m.GroupID == ch.group
	}
	return m.SessionType == content.SingleChat && m.SendID == ch.to && m.RecvID == ch.as
}

func (ch *chat) count() int {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.received
}

// settle waits for the replies to what was just sent: until chatQuiet has
// passed without a message after one arrived beyond before, or chatSettle
// without any.
func (ch *chat) settle(ctx context.Context, before int) {
	deadline := time.Now().Add(chatSettle)
	for {
		ch.mu.Lock()
		got, last, changed := ch.received > before, ch.lastAt, ch.changed
		ch.mu.Unlock()
		wait := time.Until(deadline)
		if got {
			wait = min(wait, time.Until(last.Add(chatQuiet)))
		}
		if wait <= 0 {
			return
		}
		select {
		case <-changed:
		case <-time.After(wait):
		case <-ctx.Done():
			return
		}
	}
}

// urlOf adds scheme to a bare host:port.
func urlOf(addr, scheme string) string {
	if strings.Contains(addr, "://") {
		return addr
	}
	return scheme + "://" + addr
}
