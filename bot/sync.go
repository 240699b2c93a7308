package bot

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/transport"
)

// syncGateway is what the sync engine needs from the connection.
// GetNewestSeq must list every conversation that has messages (as 1001
// does): a conversation left out while the bot holds a watermark for it
// reads as a server whose seqs went back (see SeqResetPolicy).
type syncGateway interface {
	GetNewestSeq(ctx context.Context) (map[string]int64, error)
	PullRange(ctx context.Context, ranges []transport.SeqRange) (map[string]transport.PullResult, error)
}

// syncStore is what the sync engine needs from storage.
type syncStore interface {
	// Watermark returns the durable handled-up-to seq of conv.
	Watermark(conv string) (int64, bool)
	// SeenOrMark reports whether a seq-less message was seen, marking it.
	SeenOrMark(clientMsgID string) bool
	// Initialized reports whether a first sync has completed.
	Initialized() bool
	// SetInitialized records that the first sync completed.
	SetInitialized() error
	// SetStart records the start seq the backlog policy chose for a
	// conversation that has no watermark and nothing in flight.
	SetStart(conv string, seq int64)
	// Watermarks returns every durable watermark (a copy).
	Watermarks() map[string]int64
}

// syncer is the sync engine. It is driven by one goroutine (the bot's event
// loop): onConnected after every (re)connect, onPush for every push. It keeps
// delivered[conv], the highest seq handed to the dispatcher or skipped,
// which runs ahead of the durable watermark by the messages in flight; the
// watermark itself is advanced by the workers after the handler returns.
type syncer struct {
	gw           func() syncGateway
	st           syncStore
	deliver      func(context.Context, item) error
	self         string
	dispatchSelf bool
	backlog      Backlog
	log          *slog.Logger
	report       func(error)

	chunk    int           // seqs per pull request; ≤ 100
	window   int           // pull requests in flight
	progress time.Duration // progress log period for catch-ups

	delivered map[string]int64
	seqReset  SeqResetPolicy
	scanned   bool            // checkReset has scanned the durable watermarks
	kept      map[string]bool // conversations reported under SeqResetKeep
	obs       Observer        // nil: none
	lagMax    int64           // largest gap of the current catch-up, for obs

	pushed, pulled, duplicates, skipped, gaps, syncs atomic.Int64

	runMu sync.Mutex // one of onConnected and onPush at a time (Bot.SyncNow runs outside the loop)
}

// Stats counts what the sync engine did since Run started.
type Stats struct {
	Pushed     int64 // pushed messages accepted (dispatched or advancing a watermark)
	Pulled     int64 // pulled messages accepted
	Duplicates int64 // messages dropped as already delivered or seen
	Skipped    int64 // seqs advanced without a message (missing on the server)
	Gaps       int64 // push gaps filled by a pull
	Syncs      int64 // completed syncs after a connect
}

type gap struct {
	conv       string
	begin, end int64
}

func newSyncer(gw func() syncGateway, st syncStore, deliver func(context.Context, item) error, self string, dispatchSelf bool,
	backlog Backlog, log *slog.Logger, report func(error)) *syncer {
	return &syncer{
		gw: gw, st: st, deliver: deliver, self: self, dispatchSelf: dispatchSelf,
		backlog: backlog, log: log, report: report,
		chunk: 100, window: 4, progress: 2 * time.Second,
		delivered: make(map[string]int64),
	}
}

func (s *syncer) snapshot() Stats {
	return Stats{
		Pushed: s.pushed.Load(), Pulled: s.pulled.Load(), Duplicates: s.duplicates.Load(),
		Skipped: s.skipped.Load(), Gaps: s.gaps.Load(), Syncs: s.syncs.Load(),
	}
}

// base returns delivered[conv], loading it from the watermark, or from the
// backlog policy for a conversation never seen, with maxSeq its newest seq.
func (s *syncer) base(conv string, maxSeq int64) int64 {
	if d, ok := s.delivered[conv]; ok {
		return d
	}
	d, ok := s.st.Watermark(conv)
	if !ok {
		d = 0
		if !s.st.Initialized() {
			d = s.backlog.start(maxSeq)
			if d > 0 {
				s.st.SetStart(conv, d)
			}
		}
	}
	s.delivered[conv] = d
	return d
}

// onConnected syncs after a (re)connect: newest seqs, then every gap pulled
// and delivered in seq order per conversation.
func (s *syncer) onConnected(ctx context.Context) error {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	gw := s.gw()
	if gw == nil {
		return nil
	}
	newest, err := gw.GetNewestSeq(ctx)
	if err != nil {
		return &SyncError{Op: "newest seq", Err: err}
	}
	if err := s.checkReset(ctx, newest); err != nil {
		return err
	}
	convs := make([]string, 0, len(newest))
	for conv := range newest {
		convs = append(convs, conv)
	}
	slices.Sort(convs)
	var gaps []gap
	var total int64
	for _, conv := range convs {
		maxSeq := newest[conv]
		d := s.base(conv, maxSeq)
		if maxSeq > d {
			gaps = append(gaps, gap{conv, d + 1, maxSeq})
			total += maxSeq - d
		}
	}
	if !s.st.Initialized() {
		if err := s.st.SetInitialized(); err != nil {
			return &SyncError{Op: "mark initialized", Err: err}
		}
	}
	// A catch-up is news; the few messages a poll or a webhook callback
	// finds are not.
	lvl := slog.LevelDebug
	if total >= catchupLogMin {
		lvl = slog.LevelInfo
	}
	if total > 0 {
		s.log.Log(ctx, lvl, "bot: sync: catching up", "conversations", len(gaps), "messages", total)
	}
	s.observeLag(gaps)
	start := time.Now()
	if err := s.fill(ctx, gw, gaps, total); err != nil {
		return err
	}
	s.syncs.Add(1)
	s.observeLag(nil)
	if total > 0 {
		el := time.Since(start)
		s.log.Log(ctx, lvl, "bot: sync: caught up", "conversations", len(gaps), "messages", total,
			"elapsed", el.Round(time.Millisecond), "rate", rate(total, el))
	}
	return nil
}

// checkReset finds the conversations whose newest seq on the server (0
// when newest does not list them) is below what the bot has delivered or
// durably handled: the server's seqs went back. Each is reported as a
// *SeqResetError and handled by the SeqResetPolicy; a watermark that
// changes is rewound through the conversation's shard, after the items
// already queued for it. The durable watermarks are scanned at the first
// sync only: after it, every conversation the server listed is in
// delivered. With SeqResetKeep a conversation is reported once per run.
func (s *syncer) checkReset(ctx context.Context, newest map[string]int64) error {
	known := s.delivered
	if !s.scanned {
		known = s.st.Watermarks()
		for conv, d := range s.delivered {
			known[conv] = d // delivered runs ahead of the durable watermark
		}
		s.scanned = true
	}
	var reset []string
	for conv, d := range known {
		if newest[conv] < d && !s.kept[conv] {
			reset = append(reset, conv)
		}
	}
	slices.Sort(reset)
	for _, conv := range reset {
		n, d := newest[conv], known[conv]
		s.report(&SeqResetError{ConversationID: conv, ServerSeq: n, Watermark: d, Policy: s.seqReset})
		to := n
		switch s.seqReset {
		case SeqResetKeep:
			if s.kept == nil {
				s.kept = make(map[string]bool)
			}
			s.kept[conv] = true
			continue
		case SeqResetReplay:
			to = 0
		}
		if err := s.deliver(ctx, item{conv: conv, seq: to, rewind: true}); err != nil {
			return err
		}
		s.delivered[conv] = to
	}
	return nil
}

// catchupLogMin is the size of a sync logged at info level.
const catchupLogMin = 100

func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(int64(float64(n)/d.Seconds()*10)) / 10
}

// onPush handles the messages of one push, in order.
func (s *syncer) onPush(ctx context.Context, msgs []content.Message) error {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	var firstErr error
	for i := range msgs {
		m := &msgs[i]
		conv := m.ConversationID
		if m.Seq <= 0 {
			if m.SendID == s.self && !s.dispatchSelf {
				continue
			}
			if m.ClientMsgID != "" && s.st.SeenOrMark(m.ClientMsgID) {
				s.duplicates.Add(1)
				continue
			}
			if err := s.deliver(ctx, item{conv: conv, msg: m, dispatch: true}); err != nil {
				return err
			}
			s.pushed.Add(1)
			continue
		}
		d := s.base(conv, m.Seq-1)
		if m.Seq <= d {
			s.duplicates.Add(1)
			continue
		}
		if m.Seq > d+1 {
			gw := s.gw()
			if gw == nil {
				continue
			}
			s.log.Debug("bot: sync: gap before push", "conversation", conv, "from", d+1, "to", m.Seq-1)
			if err := s.fill(ctx, gw, []gap{{conv, d + 1, m.Seq - 1}}, m.Seq-1-d); err != nil {
				// Drop the push: the next push or reconnect pulls it again.
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			s.gaps.Add(1)
		}
		if err := s.accept(ctx, conv, m, false); err != nil {
			return err
		}
		s.pushed.Add(1)
	}
	return firstErr
}

// accept hands a message with a seq above delivered to the dispatcher.
func (s *syncer) accept(ctx context.Context, conv string, m *content.Message, offline bool) error {
	it := item{conv: conv, msg: m, seq: m.Seq, offline: offline, dispatch: true}
	switch {
	case m.Status == content.StatusDeleted:
		it.dispatch, it.msg = false, nil
	case m.SendID == s.self && !s.dispatchSelf:
		it.dispatch, it.msg = false, nil
	}
	if err := s.deliver(ctx, it); err != nil {
		return err
	}
	s.delivered[conv] = m.Seq
	return nil
}

// skipTo advances delivered to seq without a message, for seqs the server no
// longer returns.
func (s *syncer) skipTo(ctx context.Context, conv string, seq int64) error {
	if err := s.deliver(ctx, item{conv: conv, seq: seq}); err != nil {
		return err
	}
	s.skipped.Add(seq - s.delivered[conv])
	s.delivered[conv] = seq
	return nil
}

// pullCall is one PullRange request of the pipeline.
type pullCall struct {
	ranges []transport.SeqRange
	res    map[string]transport.PullResult
	err    error
	done   chan struct{}
}

// fill pulls the gaps, at most s.chunk seqs per request and s.window
// requests in flight, and delivers the results in request order, so each
// conversation's messages are delivered in seq order. On an error nothing
// after the failed request is delivered. Requests are planned as they are
// launched, and a result is released once delivered: the memory of a
// catch-up is bounded by the window and the dispatcher's queues, whatever
// the backlog.
func (s *syncer) fill(ctx context.Context, gw syncGateway, gaps []gap, total int64) error {
	p := planner{gaps: gaps, limit: int64(s.chunk)}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	var inflight []*pullCall // launched, not yet delivered, in request order
	launch := func() {
		c := p.next()
		if c == nil {
			return
		}
		inflight = append(inflight, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(c.done)
			c.res, c.err = gw.PullRange(ctx, c.ranges)
		}()
	}
	for range s.window {
		launch()
	}
	var done int64
	start, lastLog := time.Now(), time.Now()
	for len(inflight) > 0 {
		c := inflight[0]
		inflight[0] = nil
		inflight = inflight[1:]
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		launch()
		if c.err != nil {
			conv := ""
			if len(c.ranges) == 1 {
				conv = c.ranges[0].ConversationID
			}
			return &SyncError{Op: "pull", ConversationID: conv, Err: c.err}
		}
		for _, r := range c.ranges {
			n, err := s.deliverRange(ctx, r, c.res[r.ConversationID])
			if err != nil {
				return err
			}
			done += n
		}
		// Delivered: the queued items hold copies, so the result can go
		// now rather than when the whole catch-up is delivered.
		c.res = nil
		s.observeProgress(total - done)
		if total > 1000 && time.Since(lastLog) >= s.progress {
			lastLog = time.Now()
			s.log.Info("bot: sync: progress", "percent", done*100/total, "messages", total, "conversations", len(gaps), "delivered", done, "remaining", max(total-done, 0),
				"rate", rate(done, time.Since(start)))
		}
	}
	return nil
}

// deliverRange delivers the pulled messages of one range and skips the seqs
// of the range the server did not return, reporting those whose message
// was too large to pull. It returns how many seqs it covered.
func (s *syncer) deliverRange(ctx context.Context, r transport.SeqRange, res transport.PullResult) (int64, error) {
	before := s.delivered[r.ConversationID]
	big := res.TooLarge
	skipBig := func(upTo int64) error {
		for len(big) > 0 && big[0] <= upTo {
			seq := big[0]
			big = big[1:]
			if seq < r.Begin || seq > r.End || seq <= s.delivered[r.ConversationID] {
				continue
			}
			s.report(&MessageTooLargeError{ConversationID: r.ConversationID, Seq: seq})
			if err := s.skipTo(ctx, r.ConversationID, seq); err != nil {
				return err
			}
		}
		return nil
	}
	msgs := res.Messages
	for i := range msgs {
		m := &msgs[i]
		if m.Seq < r.Begin || m.Seq > r.End || m.Seq <= s.delivered[r.ConversationID] {
			continue
		}
		if err := skipBig(m.Seq - 1); err != nil {
			return 0, err
		}
		if m.ConversationID == "" {
			m.ConversationID = r.ConversationID
		}
		// A detached copy: a queued item must not keep the whole pull
		// answer alive.
		if err := s.accept(ctx, r.ConversationID, detach(m, r.ConversationID), true); err != nil {
			return 0, err
		}
		s.pulled.Add(1)
	}
	if err := skipBig(r.End); err != nil {
		return 0, err
	}
	if s.delivered[r.ConversationID] < r.End {
		s.log.Warn("bot: sync: seqs missing on the server", "conversation", r.ConversationID,
			"from", s.delivered[r.ConversationID]+1, "to", r.End)
		if err := s.skipTo(ctx, r.ConversationID, r.End); err != nil {
			return 0, err
		}
	}
	return s.delivered[r.ConversationID] - before, nil
}

// detach returns a copy of m, with ConversationID conv, that shares no
// memory with the pull answer it was decoded from. The transport decodes
// every string of an answer as a substring of one copy of the answer, so
// one queued message would keep the whole answer (up to 1 MiB) alive, and
// the dispatcher's queues could hold thousands: the copy's strings are
// copied into one new block instead.
func detach(m *content.Message, conv string) *content.Message {
	cp := *m
	cp.ConversationID = conv
	fields := [...]*string{&cp.SendID, &cp.RecvID, &cp.GroupID, &cp.ClientMsgID, &cp.ServerMsgID,
		&cp.SenderNickname, &cp.SenderFaceURL, &cp.AttachedInfo, &cp.Ex}
	n := 0
	for _, f := range fields {
		n += len(*f)
	}
	for _, id := range cp.AtUserIDList {
		n += len(id)
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range fields {
		b.WriteString(*f)
	}
	for _, id := range cp.AtUserIDList {
		b.WriteString(id)
	}
	block, off := b.String(), 0
	take := func(l int) string {
		s := block[off : off+l]
		off += l
		return s
	}
	for _, f := range fields {
		*f = take(len(*f))
	}
	if cp.AtUserIDList != nil {
		ids := make([]string, len(cp.AtUserIDList))
		for i, id := range cp.AtUserIDList {
			ids[i] = take(len(id))
		}
		cp.AtUserIDList = ids
	}
	if cp.Options != nil {
		opts := make(map[string]bool, len(cp.Options))
		for k, v := range cp.Options {
			opts[strings.Clone(k)] = v
		}
		cp.Options = opts
	}
	if p := cp.OfflinePushInfo; p != nil {
		cp.OfflinePushInfo = &content.OfflinePushInfo{Title: strings.Clone(p.Title), Desc: strings.Clone(p.Desc),
			Ex: strings.Clone(p.Ex), IOSPushSound: strings.Clone(p.IOSPushSound), IOSBadgeCount: p.IOSBadgeCount,
			SignalInfo: strings.Clone(p.SignalInfo)}
	}
	return &cp
}

// planner cuts gaps into requests of at most limit seqs in all, one request
// at a time: a request takes the next seqs of the gaps in order, so a
// conversation's ranges stay in ascending order across requests.
type planner struct {
	gaps  []gap
	limit int64
	i     int   // current gap
	b     int64 // next seq of gaps[i]; 0: its begin
}

// next returns the next request, or nil when the gaps are all planned.
func (p *planner) next() *pullCall {
	var c *pullCall
	var n int64
	for n < p.limit && p.i < len(p.gaps) {
		g := p.gaps[p.i]
		if p.b == 0 {
			p.b = g.begin
		}
		if p.b > g.end {
			p.i, p.b = p.i+1, 0
			continue
		}
		e := min(g.end, p.b+(p.limit-n)-1)
		if c == nil {
			c = &pullCall{done: make(chan struct{})}
		}
		c.ranges = append(c.ranges, transport.SeqRange{ConversationID: g.conv, Begin: p.b, End: e})
		n += e - p.b + 1
		p.b = e + 1
	}
	return c
}
