package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/storage"
)

// ErrLeaseLost is returned by Ingress.Run when another ingress took the
// lease: this process must not talk to the server any more.
var ErrLeaseLost = errors.New("cluster: the ingress lease was lost")

// Ingress is the process that holds the bot's account: its bot runs the
// sync engine with Handler as its only handler, which publishes every
// message to the partition's subject and returns once JetStream has
// acknowledged it, so the watermark advances only after the publish; it
// answers the workers' send requests with the bot's own connection, rate
// limit and loop guard. Two ingress processes of one bot elect one active
// by a lease in a key-value bucket; the other waits and takes over.
type Ingress struct {
	cfg Config
	n   names
	nc  *nats.Conn
	js  jetstream.JetStream
	id  string

	lease, wms jetstream.KeyValue

	stopping atomic.Pointer[chan struct{}] // closed when the current Run stops

	mu      sync.Mutex
	pending map[string]int64 // conversation -> highest published seq not yet in the bucket

	published  atomic.Int64
	duplicates atomic.Int64
	active     atomic.Bool
}

// Duplicates returns the number of publishes JetStream dropped as already
// in the stream (re-published after a takeover or a crash).
func (in *Ingress) Duplicates() int64 { return in.duplicates.Load() }

// Active reports whether this ingress holds the lease and runs its bot.
func (in *Ingress) Active() bool { return in.active.Load() }

// NewIngress creates (or updates) the stream and the buckets of the bot on
// the JetStream that js talks to.
func NewIngress(ctx context.Context, cfg Config, nc *nats.Conn, js jetstream.JetStream) (*Ingress, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	in := &Ingress{cfg: cfg, n: cfg.names(), nc: nc, js: js, pending: make(map[string]int64)}
	host, _ := os.Hostname()
	in.id = fmt.Sprintf("%s-%d-%d", host, os.Getpid(), time.Now().UnixNano()%1e6)
	if _, err := setup(ctx, js, &in.cfg); err != nil {
		return nil, err
	}
	var err error
	if in.lease, err = bucket(ctx, js, &in.cfg, in.n.ingress, in.cfg.LeaseTTL); err != nil {
		return nil, err
	}
	if in.wms, err = bucket(ctx, js, &in.cfg, in.n.wms, 0); err != nil {
		return nil, err
	}
	return in, nil
}

// Handler is the ingress bot's handler: it publishes the message and
// returns once JetStream acknowledged it.
func (in *Ingress) Handler() bot.Handler { return bot.HandlerFunc(in.publish) }

// Published returns the number of messages published since start.
func (in *Ingress) Published() int64 { return in.published.Load() }

func (in *Ingress) publish(c *bot.Context) error {
	m := c.Message()
	data, err := encodeMsg(m)
	if err != nil {
		return fmt.Errorf("cluster: encode message %s/%d: %w", m.ConversationID, m.Seq, err)
	}
	msg := nats.NewMsg(in.n.subject(PartitionOf(m.ConversationID, in.cfg.Partitions)))
	msg.Data = data
	msg.Header.Set(jetstream.MsgIDHeader, msgID(m))
	// Retry until JetStream takes it: returning before would let the
	// watermark pass a message no worker will see. Only a stopping
	// ingress gives up (its watermarks are not kept: see Run).
	wait := 50 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ack, err := in.js.PublishMsg(ctx, msg)
		cancel()
		if err == nil {
			if ack.Duplicate {
				in.duplicates.Add(1)
			}
			break
		}
		in.cfg.Logger.Warn("cluster: publish failed; retrying", "conversation", m.ConversationID, "seq", m.Seq, "err", err)
		select {
		case <-in.stoppingCh():
			return fmt.Errorf("cluster: publish %s/%d: %w", m.ConversationID, m.Seq, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
	in.published.Add(1)
	if m.Seq > 0 {
		in.mu.Lock()
		if m.Seq > in.pending[m.ConversationID] {
			in.pending[m.ConversationID] = m.Seq
		}
		in.mu.Unlock()
	}
	return nil
}

// flushWatermarks writes the published seqs to the bucket.
func (in *Ingress) flushWatermarks(ctx context.Context) error {
	in.mu.Lock()
	p := in.pending
	in.pending = make(map[string]int64, len(p))
	in.mu.Unlock()
	var (
		firstErr error
		emu      sync.Mutex
		wg       sync.WaitGroup
		sem      = make(chan struct{}, 16)
	)
	for conv, seq := range p {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if _, err := in.wms.Put(ctx, token(conv), []byte(conv+"\n"+strconv.FormatInt(seq, 10))); err != nil {
				emu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				emu.Unlock()
				in.mu.Lock()
				if seq > in.pending[conv] {
					in.pending[conv] = seq
				}
				in.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// restoreWatermarks makes db's watermarks those of the bucket: the
// published seqs of the previous active ingress (or of this one). A
// conversation the bucket does not know keeps its local watermark.
func (in *Ingress) restoreWatermarks(ctx context.Context, db *storage.DB) (int, error) {
	lister, err := in.wms.ListKeys(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for k := range lister.Keys() {
		e, err := in.wms.Get(ctx, k)
		if err != nil {
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				continue
			}
			return n, err
		}
		conv, seqS, ok := strings.Cut(string(e.Value()), "\n")
		seq, perr := strconv.ParseInt(seqS, 10, 64)
		if !ok || perr != nil {
			continue
		}
		if cur, _ := db.Watermark(conv); cur != seq {
			db.Rewind(conv, seq)
		}
		n++
	}
	return n, db.Flush(ctx)
}

func (in *Ingress) stoppingCh() <-chan struct{} {
	if p := in.stopping.Load(); p != nil {
		return *p
	}
	return nil
}

// Run waits for the lease (standing by while another ingress holds it),
// restores the watermarks kept in JetStream into db (the database of b),
// serves the workers' sends and runs b until ctx ends, b stops, or the
// lease is lost (ErrLeaseLost). b must have been built with Handler.
//
// After ErrLeaseLost, Run may be called again with a new bot (a Bot runs
// once) to stand by and take over again.
func (in *Ingress) Run(ctx context.Context, b *bot.Bot, db *storage.DB) error {
	stopping := make(chan struct{})
	in.stopping.Store(&stopping)
	var stopOnce sync.Once
	stop := func() { stopOnce.Do(func() { close(stopping) }) }
	defer stop()
	log := in.cfg.Logger.With("role", "ingress", "id", in.id)
	actx, acancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-b.Stopping():
			acancel()
		case <-actx.Done():
		}
	}()
	rev, err := in.acquire(actx, log)
	acancel()
	if err != nil {
		if ctx.Err() == nil {
			return nil // the bot was stopped while standing by
		}
		return err
	}
	in.active.Store(true)
	defer in.active.Store(false)
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = in.lease.Delete(dctx, "active", jetstream.LastRevision(rev.Load()))
	}()
	n, err := in.restoreWatermarks(ctx, db)
	if err != nil {
		return fmt.Errorf("cluster: restore watermarks: %w", err)
	}
	log.Info("cluster: active ingress", "watermarks_restored", n, "partitions", in.cfg.Partitions, "stream", in.n.stream)

	sub, err := in.serveSends(b)
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	lost := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(2)
	go func() { defer bg.Done(); in.holdLease(runCtx, rev, lost, log) }()
	go func() {
		defer bg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		last, lastLog := int64(0), time.Now()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				if err := in.flushWatermarks(runCtx); err != nil && runCtx.Err() == nil {
					log.Warn("cluster: watermarks not saved; retrying", "err", err)
				}
				if time.Since(lastLog) >= 10*time.Second {
					p := in.published.Load()
					log.Info("cluster: ingress", "role", "ingress", "published", p, "rate", float64(p-last)/time.Since(lastLog).Seconds(),
						"lag", b.QueueDepth(), "stats", fmt.Sprintf("%+v", b.Stats()))
					last, lastLog = p, time.Now()
				}
			}
		}
	}()
	runErr := make(chan error, 1)
	go func() { runErr <- b.Run(runCtx) }()
	var result error
	select {
	case result = <-runErr:
	case <-lost:
		log.Error("cluster: lease lost; stopping the ingress")
		stop()
		cancel()
		<-runErr
		result = ErrLeaseLost
	}
	stop()
	cancel()
	bg.Wait()
	if result != ErrLeaseLost {
		fctx, fcancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := in.flushWatermarks(fctx); err != nil {
			log.Warn("cluster: final watermarks not saved (the next ingress re-publishes; JetStream drops the repeats)", "err", err)
		}
		fcancel()
	}
	return result
}

// acquire takes the lease, waiting as the standby while another holds it.
func (in *Ingress) acquire(ctx context.Context, log interface {
	Info(string, ...any)
}) (*atomic.Uint64, error) {
	standby := false
	for {
		r, err := in.lease.Create(ctx, "active", []byte(in.id))
		if err == nil {
			var rev atomic.Uint64
			rev.Store(r)
			return &rev, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && ctx.Err() == nil {
			log.Info("cluster: lease bucket", "err", err)
		}
		if !standby {
			standby = true
			holder := ""
			if e, err := in.lease.Get(ctx, "active"); err == nil {
				holder = string(e.Value())
			}
			log.Info("cluster: standby ingress; another one is active", "active", holder)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(in.cfg.LeaseTTL / 8):
		}
	}
}

// holdLease renews the lease every LeaseTTL/4 and closes lost when it
// could not for 3/4 of LeaseTTL or another ingress holds it.
func (in *Ingress) holdLease(ctx context.Context, rev *atomic.Uint64, lost chan<- struct{}, log interface {
	Warn(string, ...any)
}) {
	t := time.NewTicker(in.cfg.LeaseTTL / 4)
	defer t.Stop()
	ok := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// The answer must come before the lease could expire on the
		// server (counted from when the last successful renewal was sent).
		sent := time.Now()
		uctx, cancel := context.WithTimeout(ctx, max(time.Until(ok.Add(in.cfg.LeaseTTL*3/4)), 50*time.Millisecond))
		r, err := renew(uctx, in.lease, "active", in.id, rev.Load())
		cancel()
		if err == nil {
			rev.Store(r)
			ok = sent
			continue
		}
		if ctx.Err() != nil {
			return
		}
		log.Warn("cluster: lease renewal failed", "err", err)
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || time.Since(ok) >= in.cfg.LeaseTTL*3/4 {
			close(lost)
			return
		}
	}
}

// serveSends answers the workers' send requests with b.
func (in *Ingress) serveSends(b *bot.Bot) (*nats.Subscription, error) {
	sem := make(chan struct{}, 256)
	sub, err := in.nc.QueueSubscribe(in.n.sendSubj, "ingress", func(msg *nats.Msg) {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			var req sendRequest
			var rep sendReply
			if err := json.Unmarshal(msg.Data, &req); err != nil || req.Msg == nil {
				rep = sendReply{Err: fmt.Sprintf("undecodable send request: %v", err), Kind: "target"}
			} else {
				if req.Msg.Elem == nil {
					_ = req.Msg.DecodeContent()
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				res, err := b.SendRelayed(ctx, req.Trigger, req.Msg)
				cancel()
				rep = replyOf(res, err)
			}
			data, _ := json.Marshal(rep)
			_ = msg.Respond(data)
		}()
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: serve sends on %s: %w", in.n.sendSubj, err)
	}
	return sub, in.nc.Flush()
}

// renew updates the lease key to id if it is still at revision rev. An
// update that landed although its answer was lost (a slow or failing
// node) moved the revision: when the key still holds id, its revision is
// adopted.
func renew(ctx context.Context, kv jetstream.KeyValue, key, id string, rev uint64) (uint64, error) {
	r, err := kv.Update(ctx, key, []byte(id), rev)
	if err == nil {
		return r, nil
	}
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequence {
		return 0, err
	}
	e, gerr := kv.Get(ctx, key)
	if gerr != nil || string(e.Value()) != id {
		return 0, err
	}
	return kv.Update(ctx, key, []byte(id), e.Revision())
}
