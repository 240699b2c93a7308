package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/transport"
)

// maxAckPending bounds the messages of one partition handed to a worker and
// not yet acknowledged: the most a worker's death can make repeat per
// partition.
const maxAckPending = 512

// Worker consumes partitions and runs a relay bot's handlers on their
// messages. Workers agree on who takes which partition through two
// key-value buckets: each announces itself in one, and partition p goes
// to the (p mod n)-th of the n live workers sorted by ID; a worker takes a
// partition by creating its lease in the other, renews it while it
// consumes, and deletes it once every message it was handed is handled
// and acknowledged. A worker that dies stops renewing: after LeaseTTL its
// partitions are taken by the others, which resume from the partition's
// acknowledged floor.
type Worker struct {
	cfg Config
	n   names
	nc  *nats.Conn
	js  jetstream.JetStream
	id  string

	stream          jetstream.Stream
	leases, members jetstream.KeyValue

	mu   sync.Mutex
	held map[int]*partRun
}

// partRun is one partition being consumed.
type partRun struct {
	part      int
	rev       uint64       // lease revision
	renewed   atomic.Int64 // unix ns when the last successful renewal (or the creation) was sent
	cancel    context.CancelFunc
	stop      func() // stops fetching
	drained   chan struct{}
	releasing bool
	inflight  sync.WaitGroup
	maxSeq    atomic.Uint64 // stream seq of the last message handed to the bot
}

// NewWorker prepares a worker on the stream an ingress created (it creates
// it too if it does not exist yet).
func NewWorker(ctx context.Context, cfg Config, nc *nats.Conn, js jetstream.JetStream) (*Worker, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	w := &Worker{cfg: cfg, n: cfg.names(), nc: nc, js: js, held: make(map[int]*partRun)}
	host, _ := os.Hostname()
	w.id = fmt.Sprintf("%s-%d-%d", token(host), os.Getpid(), time.Now().UnixNano()%1e9)
	var err error
	if w.stream, err = setup(ctx, js, &w.cfg); err != nil {
		return nil, err
	}
	if w.leases, err = bucket(ctx, js, &w.cfg, w.n.leases, w.cfg.LeaseTTL); err != nil {
		return nil, err
	}
	if w.members, err = bucket(ctx, js, &w.cfg, w.n.members, w.cfg.LeaseTTL); err != nil {
		return nil, err
	}
	return w, nil
}

// ID is the worker's ID in the buckets.
func (w *Worker) ID() string { return w.id }

// Held returns the partitions the worker consumes now.
func (w *Worker) Held() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	var ps []int
	for p, r := range w.held {
		if !r.releasing {
			ps = append(ps, p)
		}
	}
	slices.Sort(ps)
	return ps
}

// BotOption makes a bot a relay worker of this cluster: it receives from
// Run and sends through the ingress. Append it after the other options.
func (w *Worker) BotOption() bot.Option { return bot.WithRelay("cluster", &relaySender{w: w}) }

// relaySender sends through the active ingress by request/reply.
type relaySender struct{ w *Worker }

func (s *relaySender) SendMsg(ctx context.Context, m *content.Message) (transport.SendResult, error) {
	req := sendRequest{Msg: stripped(m)}
	if t := bot.TriggerOf(ctx); t != nil {
		req.Trigger = &content.Message{ConversationID: t.ConversationID, SendID: t.SendID, Seq: t.Seq, Ex: t.Ex, ClientMsgID: t.ClientMsgID}
	}
	data, err := json.Marshal(&req)
	if err != nil {
		return transport.SendResult{}, fmt.Errorf("cluster: encode send: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	wait := 50 * time.Millisecond
	for {
		resp, err := s.w.nc.RequestWithContext(ctx, s.w.n.sendSubj, data)
		if err == nil {
			var rep sendReply
			if err := json.Unmarshal(resp.Data, &rep); err != nil {
				return transport.SendResult{}, fmt.Errorf("cluster: undecodable send reply: %w", err)
			}
			return rep.Result, rep.errorOf(m.ConversationID)
		}
		if !errors.Is(err, nats.ErrNoResponders) {
			return transport.SendResult{}, fmt.Errorf("cluster: send through the ingress: %w", err)
		}
		// No active ingress (a takeover is under way): wait for one.
		select {
		case <-ctx.Done():
			return transport.SendResult{}, fmt.Errorf("cluster: no active ingress answers sends: %w", ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

func stripped(m *content.Message) *content.Message {
	c := *m
	c.Elem = nil
	return &c
}

// Run runs b (built with BotOption) and consumes partitions into it until
// ctx ends; then it stops fetching, waits for the handlers of what it was
// handed (up to the bot's shutdown), releases its partitions and stops b.
func (w *Worker) Run(ctx context.Context, b *bot.Bot) error {
	log := w.cfg.Logger.With("role", "worker", "id", w.id)
	botCtx, stopBot := context.WithCancel(context.Background())
	defer stopBot()
	runErr := make(chan error, 1)
	go func() { runErr <- b.Run(botCtx) }()
	log.Info("cluster: worker started", "partitions", w.cfg.Partitions, "stream", w.n.stream)

	tick := time.NewTicker(w.cfg.LeaseTTL / 8)
	defer tick.Stop()
	lastLog, lastHeld := time.Time{}, ""
	var err error
loop:
	for {
		w.manage(ctx, b, log)
		if h := fmt.Sprint(w.Held()); h != lastHeld || time.Since(lastLog) >= 10*time.Second {
			log.Info("cluster: worker", "held", h, "lag", w.lag(ctx))
			lastHeld, lastLog = h, time.Now()
		}
		select {
		case <-ctx.Done():
			break loop
		case err = <-runErr:
			runErr = nil
			break loop
		case <-tick.C:
		}
	}
	// Leave: stop fetching, let the handlers finish, give the partitions back.
	w.mu.Lock()
	runs := make([]*partRun, 0, len(w.held))
	for _, r := range w.held {
		r.stop()
		runs = append(runs, r)
	}
	w.mu.Unlock()
	dctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, r := range runs {
		select {
		case <-r.drained:
		case <-dctx.Done():
		}
	}
	for _, r := range runs {
		w.settle(dctx, r)
		r.cancel()
		_ = w.leases.Delete(dctx, leaseKey(r.part), jetstream.LastRevision(r.rev))
	}
	_ = w.members.Delete(dctx, "w."+w.id)
	log.Info("cluster: worker left", "released", len(runs))
	if runErr != nil {
		if serr := b.Shutdown(dctx); serr != nil {
			log.Warn("cluster: bot shutdown", "err", serr)
		}
		err = <-runErr
	}
	return err
}

func leaseKey(p int) string { return "p." + strconv.Itoa(p) }

// manage is one round of membership and leases.
func (w *Worker) manage(ctx context.Context, b *bot.Bot, log interface {
	Warn(string, ...any)
	Info(string, ...any)
}) {
	ttl := w.cfg.LeaseTTL
	rctx, cancel := context.WithTimeout(ctx, ttl/4)
	defer cancel()
	if _, err := w.members.Put(rctx, "w."+w.id, []byte(time.Now().UTC().Format(time.RFC3339Nano))); err != nil {
		if ctx.Err() == nil {
			log.Warn("cluster: heartbeat failed", "err", err)
		}
	}
	ids := []string{w.id}
	if keys, err := w.members.Keys(rctx); err == nil {
		for _, k := range keys {
			if id, ok := strings.CutPrefix(k, "w."); ok && id != w.id {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	me := slices.Index(ids, w.id)

	w.mu.Lock()
	defer w.mu.Unlock()
	// Give back what stopped (released, or whose pull ended by itself).
	for p, r := range w.held {
		select {
		case <-r.drained:
			w.settle(rctx, r)
			r.cancel()
			_ = w.leases.Delete(rctx, leaseKey(p), jetstream.LastRevision(r.rev))
			delete(w.held, p)
		default:
		}
	}
	// Renew what is held (all at once: one slow answer must not hold up
	// the others); drop what cannot be renewed; release what another
	// worker should have.
	type renewal struct {
		rev  uint64
		sent time.Time
		err  error
	}
	renewed := make(map[int]*renewal, len(w.held))
	var wg sync.WaitGroup
	for p, r := range w.held {
		rn := &renewal{sent: time.Now()}
		renewed[p] = rn
		wg.Add(1)
		go func() {
			defer wg.Done()
			uctx, cancel := context.WithTimeout(ctx, ttl/4)
			defer cancel()
			rn.rev, rn.err = renew(uctx, w.leases, leaseKey(p), w.id, r.rev)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return // leaving: Run releases what is held
	}
	for p, r := range w.held {
		rn := renewed[p]
		if err := rn.err; err == nil {
			r.rev = rn.rev
			r.renewed.Store(rn.sent.UnixNano())
		} else {
			var apiErr *jetstream.APIError
			if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || !r.fresh(ttl) {
				log.Warn("cluster: partition lease lost; dropping the partition", "partition", p, "err", err)
				r.stop()
				r.cancel()
				delete(w.held, p)
				continue
			}
		}
		if !r.releasing && p%len(ids) != me {
			r.releasing = true
			r.stop()
		}
	}
	for p := range w.cfg.Partitions {
		if p%len(ids) != me {
			continue
		}
		if _, ok := w.held[p]; ok {
			continue
		}
		sent := time.Now()
		rev, err := w.leases.Create(rctx, leaseKey(p), []byte(w.id))
		if err != nil {
			continue // held by another (being released, or its holder died and the lease has not expired)
		}
		r, err := w.start(ctx, b, p, rev, sent)
		if err != nil {
			log.Warn("cluster: cannot consume partition", "partition", p, "err", err)
			_ = w.leases.Delete(rctx, leaseKey(p), jetstream.LastRevision(rev))
			continue
		}
		w.held[p] = r
	}
}

// start consumes partition p (whose lease w just took) into b.
func (w *Worker) start(ctx context.Context, b *bot.Bot, p int, rev uint64, sent time.Time) (*partRun, error) {
	it, err := w.iterate(ctx, p)
	if err != nil {
		return nil, err
	}
	pctx, pcancel := context.WithCancel(context.Background())
	r := &partRun{part: p, rev: rev, cancel: pcancel, drained: make(chan struct{})}
	r.renewed.Store(sent.UnixNano())
	var (
		mu      sync.Mutex
		stopped bool
	)
	r.stop = func() {
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			stopped = true
			it.Stop()
		}
	}
	isStopped := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return stopped
	}
	go func() {
		defer close(r.drained)
		for {
			err := w.consume(pctx, b, r, it)
			r.inflight.Wait()
			if isStopped() || pctx.Err() != nil {
				return
			}
			// The pull broke (a NATS node lost, the consumer's leader
			// moved): resume from the acknowledged floor, as a new holder,
			// unless another worker took the partition (it deletes the
			// consumer when it resumes from the floor).
			if errors.Is(err, jetstream.ErrConsumerDeleted) || !w.holds(pctx, p) {
				w.cfg.Logger.Warn("cluster: partition taken by another worker; leaving it", "partition", p, "err", err)
				r.stop()
				return
			}
			w.cfg.Logger.Warn("cluster: partition pull interrupted; resuming", "partition", p, "err", err)
			for {
				w.settle(pctx, r)
				time.Sleep(200 * time.Millisecond)
				if isStopped() || pctx.Err() != nil {
					return
				}
				if !w.holds(pctx, p) {
					r.stop()
					return
				}
				next, err := w.iterate(pctx, p)
				if err == nil {
					mu.Lock()
					it = next
					if stopped {
						it.Stop()
					}
					mu.Unlock()
					break
				}
				w.cfg.Logger.Warn("cluster: partition consumer unavailable; retrying", "partition", p, "err", err)
			}
		}
	}()
	return r, nil
}

// fresh reports whether the lease was renewed less than 3/4 of its TTL
// ago (counted from when the renewal was sent).
func (r *partRun) fresh(ttl time.Duration) bool {
	return time.Since(time.Unix(0, r.renewed.Load())) < ttl*3/4
}

// holds reports whether the lease of partition p is this worker's.
func (w *Worker) holds(ctx context.Context, p int) bool {
	gctx, cancel := context.WithTimeout(ctx, w.cfg.LeaseTTL/2)
	defer cancel()
	e, err := w.leases.Get(gctx, leaseKey(p))
	return err == nil && string(e.Value()) == w.id
}

// iterate opens a pull on partition p's consumer.
func (w *Worker) iterate(ctx context.Context, p int) (jetstream.MessagesContext, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cons, err := w.consumer(cctx, p)
	if err != nil {
		return nil, err
	}
	return cons.Messages(jetstream.PullMaxMessages(128), jetstream.PullExpiry(10*time.Second),
		jetstream.PullHeartbeat(2*time.Second), jetstream.WithMessagesErrOnMissingHeartbeat(true))
}

// consume hands the messages of it to b until it fails or is stopped.
func (w *Worker) consume(ctx context.Context, b *bot.Bot, r *partRun, it jetstream.MessagesContext) error {
	var lastDelivery uint64
	for {
		msg, err := it.Next()
		if err != nil {
			it.Stop()
			return err
		}
		// A delivery lost on the way (a NATS node died while routing it)
		// shows as a gap in the consumer's delivery sequence: handing on
		// the next message would break the order. Resume from the
		// acknowledged floor instead, which comes before the lost one.
		md, err := msg.Metadata()
		if err != nil {
			it.Stop()
			return fmt.Errorf("cluster: message without JetStream metadata: %w", err)
		}
		if lastDelivery != 0 && md.Sequence.Consumer != lastDelivery+1 {
			it.Stop()
			return fmt.Errorf("cluster: delivery %d after %d: one was lost on the way", md.Sequence.Consumer, lastDelivery)
		}
		lastDelivery = md.Sequence.Consumer
		m, err := decodeMsg(msg.Data())
		if err != nil {
			w.cfg.Logger.Error("cluster: dropping an undecodable message", "partition", r.part, "err", err)
			_ = msg.Term()
			continue
		}
		// Fencing: hand nothing over unless the lease was renewed
		// recently enough that it cannot have expired on the server
		// (another worker may take an expired one).
		for !r.fresh(w.cfg.LeaseTTL) {
			if ctx.Err() != nil {
				it.Stop()
				return ctx.Err()
			}
			time.Sleep(20 * time.Millisecond)
		}
		r.maxSeq.Store(md.Sequence.Stream)
		r.inflight.Add(1)
		done := func() {
			_ = msg.Ack()
			r.inflight.Done()
		}
		for {
			err = b.Dispatch(ctx, m, done)
			if !errors.Is(err, bot.ErrNotConnected) || ctx.Err() != nil {
				break
			}
			time.Sleep(10 * time.Millisecond) // the bot is starting
		}
		if err != nil {
			r.inflight.Done() // not handed over: the next holder gets it again
			r.stop()
			return err
		}
	}
}

// consumer returns the durable consumer of partition p, created afresh
// from the acknowledged floor of the previous one: its messages come in
// stream order from the first one not acknowledged, before any later one,
// so a conversation's messages are never handled out of order; those a
// dead holder handled without acknowledging are handled again. Creating it
// afresh also drops pull requests of the previous holder still waiting on
// the server, which would otherwise swallow messages.
func (w *Worker) consumer(ctx context.Context, p int) (jetstream.Consumer, error) {
	name := consumerName(p)
	cc := jetstream.ConsumerConfig{
		Durable: name, FilterSubject: w.n.subject(p),
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: 2 * time.Minute, MaxDeliver: -1,
		MaxAckPending: maxAckPending, DeliverPolicy: jetstream.DeliverAllPolicy, Replicas: w.cfg.Replicas,
	}
	cons, err := w.stream.Consumer(ctx, name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return w.stream.CreateConsumer(ctx, cc)
	}
	if err != nil {
		return nil, err
	}
	info := cons.CachedInfo()
	floor := info.AckFloor.Stream
	if info.NumAckPending > 0 {
		w.cfg.Logger.Info("cluster: taking over a partition with messages handed out and not acknowledged", "partition", p,
			"ack_floor", floor, "unacknowledged", info.NumAckPending)
	}
	if err := w.stream.DeleteConsumer(ctx, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, err
	}
	if floor > 0 {
		cc.DeliverPolicy, cc.OptStartSeq = jetstream.DeliverByStartSequencePolicy, floor+1
	}
	return w.stream.CreateConsumer(ctx, cc)
}

// settle waits (briefly) until JetStream has processed the acks of every
// message r handed to the bot: acks are sent without waiting, and the next
// holder reads the acknowledged floor to decide where to resume.
func (w *Worker) settle(ctx context.Context, r *partRun) {
	last := r.maxSeq.Load()
	if last == 0 {
		return
	}
	_ = w.nc.FlushTimeout(time.Second)
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		c, err := w.stream.Consumer(ctx, consumerName(r.part))
		if err == nil && c.CachedInfo().AckFloor.Stream >= last {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lag is the number of messages of the held partitions not yet handed to
// this worker.
func (w *Worker) lag(ctx context.Context) uint64 {
	var n uint64
	for _, p := range w.Held() {
		ictx, cancel := context.WithTimeout(ctx, time.Second)
		c, err := w.stream.Consumer(ictx, consumerName(p))
		cancel()
		if err == nil {
			n += c.CachedInfo().NumPending
		}
	}
	return n
}
