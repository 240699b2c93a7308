package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/transport"
)

// DefaultLoopGuard is the default of WithLoopGuard: a bot sends at most 5
// messages into a conversation in answer to other bots' messages between
// two human messages. It is below the default rate limit's burst, so a loop
// between two bots ends at the guard (with a warning naming the
// conversation) rather than at a rejected send.
const DefaultLoopGuard = 5

// The loop guard's notion of time.
const (
	// loopQuiet: a conversation whose guard state was not touched for this
	// long starts afresh (bot exchanges further apart are not a loop).
	loopQuiet = 10 * time.Minute
	// loopPruneAt is the number of conversations above which idle states
	// are pruned (at most once a second), as the rate limiter does.
	loopPruneAt = 4096
)

// botMarkerEx is what the bot puts in the ex field of every message it
// sends, so that other instances of this framework recognise a bot's
// message; botMarker is what they look for in it.
const (
	botMarkerEx = `{"openimbot_bot":true}`
	botMarker   = `"openimbot_bot":true`
)

// isBotMessage reports whether m was sent by a bot built with this
// framework (a message it sent carries the marker in its ex field).
func isBotMessage(m *content.Message) bool {
	return m.Ex != "" && strings.Contains(m.Ex, botMarker)
}

// ErrLoopGuard is matched by the *LoopGuardError of a send refused by the
// loop guard (WithLoopGuard).
var ErrLoopGuard = errors.New("bot: loop guard: too many answers to bots without a human message")

// LoopGuardError reports a send refused by the loop guard: the bot has
// already sent Limit messages into the conversation in answer to bots since
// the last human message. It matches ErrLoopGuard.
type LoopGuardError struct {
	ConversationID string
	Limit          int
}

func (e *LoopGuardError) Error() string {
	return fmt.Sprintf("bot: loop guard: %d answers to bots in conversation %s since the last human message; not sending",
		e.Limit, e.ConversationID)
}

// Is matches ErrLoopGuard.
func (e *LoopGuardError) Is(target error) bool { return target == ErrLoopGuard }

// loopGuard counts, per conversation, the sends made while handling a bot's
// message since the last human message, and refuses them above a limit.
//
// Which messages are a bot's: every message sent by a bot of this framework
// carries a marker in its ex field (botMarkerEx), and the bot's own
// messages (WithDispatchSelf) are a bot's. Any other message is taken for a
// human's and starts the count afresh. A client of another framework cannot
// be told from a person reliably: timing (an answer within a second) was
// considered and rejected, because scripted people (tests, piped consoles,
// load generators) answer as fast as bots and would be refused. Loops with
// such bots are bounded by the rate limit only, unless they put the same
// marker in ex.
//
// Why two bots of this framework cannot loop: in a conversation where no
// human writes, every message either bot handles is marked, so each send
// it makes there in answer raises its count and nothing lowers it; after
// limit sends every answer is refused, so the other bot receives nothing
// more to answer and the exchange ends, whatever the rate limit.
type loopGuard struct {
	limit int
	log   *slog.Logger

	mu        sync.Mutex
	convs     map[string]*loopConv
	lastPrune time.Time
}

// loopConv is the guard state of one conversation.
type loopConv struct {
	n       int       // sends answering bots since the last human message
	warned  bool      // the refusal of this run was logged
	touched time.Time // last update (local clock)
}

func newLoopGuard(limit int, log *slog.Logger) *loopGuard {
	return &loopGuard{limit: limit, log: log, convs: make(map[string]*loopConv)}
}

// admit decides whether the bot selfID may send into conv while handling
// trigger, and counts the send. It returns a *LoopGuardError when it may not.
func (g *loopGuard) admit(trigger *content.Message, selfID, conv string, now time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.convs[conv]
	if st != nil && now.Sub(st.touched) >= loopQuiet {
		*st = loopConv{}
	}
	if !isBotMessage(trigger) && trigger.SendID != selfID {
		// A human's message: in this conversation it ends a run of bot
		// exchanges; in another it says nothing about this one.
		if st != nil && trigger.ConversationID == conv {
			delete(g.convs, conv)
		}
		return nil
	}
	if st == nil {
		if len(g.convs) >= loopPruneAt && now.Sub(g.lastPrune) > time.Second {
			g.prune(now)
		}
		st = &loopConv{}
		g.convs[conv] = st
	}
	st.touched = now
	if st.n >= g.limit {
		if !st.warned {
			st.warned = true
			g.log.Warn("bot: loop guard: not answering a bot any more in this conversation until a human writes",
				"conversation", conv, "answers", st.n, "limit", g.limit, "sender", trigger.SendID)
		}
		return &LoopGuardError{ConversationID: conv, Limit: g.limit}
	}
	st.n++
	return nil
}

// prune drops the states untouched for loopQuiet: they are equivalent to
// none.
func (g *loopGuard) prune(now time.Time) {
	g.lastPrune = now
	for k, st := range g.convs {
		if now.Sub(st.touched) >= loopQuiet {
			delete(g.convs, k)
		}
	}
}

// sendFor is send for a handler handling trigger: the loop guard admits (or
// refuses) it first.
func (b *Bot) sendFor(ctx context.Context, trigger *content.Message, to Target, conv string, elem content.Element) (transport.SendResult, error) {
	if trigger != nil {
		if _, builtin := b.sender().(*transport.Client); !builtin {
			ctx = context.WithValue(ctx, triggerKey{}, trigger) // for a relaying MsgSender (relay.go)
		}
	}
	g := b.guard
	if g == nil || trigger == nil {
		return b.send(ctx, to, conv, elem)
	}
	if conv == "" {
		switch {
		case to.GroupID != "" && to.UserID == "":
			conv = content.GroupConversationID(to.GroupID)
		case to.UserID != "" && to.GroupID == "":
			conv = content.SingleConversationID(b.cfg.userID, to.UserID)
		default:
			return b.send(ctx, to, conv, elem) // reports the invalid target
		}
	}
	if err := g.admit(trigger, b.cfg.userID, conv, time.Now()); err != nil {
		return transport.SendResult{}, err
	}
	return b.send(ctx, to, conv, elem)
}
