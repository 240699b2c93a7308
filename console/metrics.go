package console

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
)

// Metrics collects the bot's Prometheus metrics and its readiness. It is a
// bot.Observer (give it to the bot with the options of BotOptions), reads
// the rest from the bot when scraped (Attach), and keeps its own registry
// with the Go runtime and process collectors. Labels are low-cardinality:
// message source and content kind, route names (from the program or the
// configuration, never from messages) and fixed failure reasons.
//
// Metrics is safe for concurrent use.
type Metrics struct {
	bot.NopObserver
	reg *prometheus.Registry

	received   *prometheus.CounterVec
	recvFast   [2][1024]atomic.Pointer[prometheus.Counter] // [offline][content type] below 1024
	recvCache  sync.Map                                    // the other types: type<<1|offline → prometheus.Counter
	handled    *prometheus.CounterVec
	errors     *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	routeCache sync.Map // route name → *routeMetrics
	sends      prometheus.Counter
	sendFails  *prometheus.CounterVec
	sendDur    prometheus.Histogram
	lagSum     prometheus.Gauge
	lagMax     prometheus.Gauge
	reconnects prometheus.Counter
	commitDur  prometheus.Histogram
	commitFail prometheus.Counter
	reloads    *prometheus.CounterVec

	bot atomic.Pointer[bot.Bot]

	mu        sync.Mutex
	connected bool // a connection is up
	synced    bool // the sync after the current connection finished
	connects  int
	since     time.Time // of the last readiness change

	tap atomic.Pointer[bot.Observer] // the console's chat, if any
}

type routeMetrics struct {
	handled  prometheus.Counter
	errs     prometheus.Counter
	panics   prometheus.Counter
	duration prometheus.Observer
}

// handlerBuckets span a fast in-process reply to a slow network call.
var handlerBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// NewMetrics returns a Metrics with its own registry.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), since: time.Now()}
	const ns = "openimbot"
	m.received = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "messages_received_total",
		Help: "Messages handed to the handler, by source (push: live, pull: fetched after a (re)connect) and content kind."},
		[]string{"source", "content"})
	m.handled = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "messages_handled_total",
		Help: `Messages whose handler returned, by the route that ran ("none": no route).`}, []string{"route"})
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "handler_errors_total",
		Help: "Handler invocations that failed, by route and kind (error: returned an error, panic: panicked and was recovered)."},
		[]string{"route", "kind"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "handler_duration_seconds",
		Help: "Time from the start of a handler to its return, by route.", Buckets: handlerBuckets}, []string{"route"})
	m.sends = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "sends_total",
		Help: "Messages the bot tried to send."})
	m.sendFails = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "send_failures_total",
		Help: "Sends that failed, by reason (rate_limit, loop_guard, not_connected, invalid, timeout, gateway: an error from the connection or the server)."}, []string{"reason"})
	m.sendDur = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "send_duration_seconds",
		Help: "Time from a send to the gateway's answer.", Buckets: handlerBuckets})
	m.lagSum = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "sync_lag_messages",
		Help: "Stored messages not yet handed to the workers (newest seq minus delivered), summed over conversations."})
	m.lagMax = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "sync_lag_max_messages",
		Help: "The largest sync lag of one conversation."})
	m.reconnects = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "reconnects_total",
		Help: "Connections established after the first one."})
	m.commitDur = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "storage_commit_duration_seconds",
		Help:    "Storage commit latency (one transaction and its fsync).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}})
	m.commitFail = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "storage_commit_failures_total",
		Help: "Storage commits that failed (they are retried)."})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "config_reloads_total",
		Help: "Configuration reloads, by result (ok, failed)."}, []string{"result"})
	m.reloads.WithLabelValues("ok")
	for _, r := range []string{"rate_limit", "loop_guard", "not_connected", "invalid", "timeout", "gateway"} {
		m.sendFails.WithLabelValues(r)
	}
	m.reloads.WithLabelValues("failed")

	botFunc := func(f func(*bot.Bot) float64) func() float64 {
		return func() float64 {
			if b := m.bot.Load(); b != nil {
				return f(b)
			}
			return 0
		}
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.received, m.handled, m.errors, m.duration, m.sends, m.sendFails, m.sendDur,
		m.lagSum, m.lagMax, m.reconnects, m.commitDur, m.commitFail, m.reloads,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: "messages_duplicate_total",
			Help: "Messages dropped as already delivered or seen."},
			botFunc(func(b *bot.Bot) float64 { return float64(b.Stats().Duplicates) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "worker_queue_depth",
			Help: "Messages waiting in the worker queues."},
			botFunc(func(b *bot.Bot) float64 { return float64(b.QueueDepth()) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "connected",
			Help: "1 while the gateway connection is up."},
			botFunc(func(b *bot.Bot) float64 {
				if b.Connected() {
					return 1
				}
				return 0
			})),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "connection_state",
			Help: "The connection state: 0 idle, 1 connecting, 2 connected, 3 disconnected, 4 closed."},
			botFunc(func(b *bot.Bot) float64 { return float64(b.Status()) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "ready",
			Help: "1 while the bot is connected and caught up (what /readyz reports)."},
			func() float64 {
				if ok, _ := m.Ready(); ok {
					return 1
				}
				return 0
			}),
	)
	return m
}

// Registry returns the registry the metrics are in; register more
// collectors on it to serve them on /metrics too.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// BotOptions returns the options that connect the bot to m: the observer
// and the connection hooks readiness is computed from. Give them to
// bot.New, then call Attach with the bot.
func (m *Metrics) BotOptions() []bot.Option {
	return []bot.Option{
		bot.WithObserver(m),
		bot.WithOnConnected(func() {
			m.mu.Lock()
			m.connects++
			if m.connects > 1 {
				m.reconnects.Inc()
			}
			m.connected, m.synced, m.since = true, false, time.Now()
			m.mu.Unlock()
		}),
		bot.WithOnSynced(func() {
			m.mu.Lock()
			m.synced, m.since = true, time.Now()
			m.mu.Unlock()
		}),
		bot.WithOnDisconnected(func(error) {
			m.mu.Lock()
			m.connected, m.synced, m.since = false, false, time.Now()
			m.mu.Unlock()
		}),
	}
}

// Attach makes m read the bot's counters, queue depth and connection state
// when scraped.
func (m *Metrics) Attach(b *bot.Bot) { m.bot.Store(b) }

// Ready reports whether the bot is connected and caught up, and otherwise
// why not.
func (m *Metrics) Ready() (bool, string) {
	b := m.bot.Load()
	m.mu.Lock()
	connected, synced, since := m.connected, m.synced, m.since
	m.mu.Unlock()
	switch {
	case b == nil:
		return false, "the bot is not running"
	case !connected || !b.Connected():
		return false, "not connected to the gateway (for " + time.Since(since).Round(time.Millisecond).String() + ")"
	case !synced:
		return false, "connected, catching up since " + time.Since(since).Round(time.Millisecond).String() + " ago"
	}
	return true, "connected and caught up"
}

// ConfigReloaded counts a configuration reload; err is its result.
func (m *Metrics) ConfigReloaded(err error) {
	if err != nil {
		m.reloads.WithLabelValues("failed").Inc()
		return
	}
	m.reloads.WithLabelValues("ok").Inc()
}

// StorageCommitted is a storage.Options.OnCommit for a database opened by
// the caller (bot.WithDB); with bot.WithStorage the observer gets it.
func (m *Metrics) StorageCommitted(d time.Duration, writes int, err error) {
	m.Committed(d, writes, err)
}

// Received implements bot.Observer.
func (m *Metrics) Received(msg *content.Message, offline bool) {
	m.receivedCounter(msg.ContentType, offline).Inc()
	if t := m.tap.Load(); t != nil {
		(*t).Received(msg, offline)
	}
}

// receivedCounter returns the received counter of a content type and
// source without a map lookup for the common types.
func (m *Metrics) receivedCounter(t content.ContentType, offline bool) prometheus.Counter {
	src, i := "push", 0
	if offline {
		src, i = "pull", 1
	}
	if t >= 0 && t < 1024 {
		slot := &m.recvFast[i][t]
		if c := slot.Load(); c != nil {
			return *c
		}
		c := m.received.WithLabelValues(src, contentKind(t))
		slot.Store(&c)
		return c
	}
	key := int64(t)<<1 | int64(i)
	if c, ok := m.recvCache.Load(key); ok {
		return c.(prometheus.Counter)
	}
	c, _ := m.recvCache.LoadOrStore(key, m.received.WithLabelValues(src, contentKind(t)))
	return c.(prometheus.Counter)
}

// contentKind is the content label: the content type's name in lower case
// ("text", "picture", "at_text" ...).
func contentKind(t content.ContentType) string {
	s := t.String()
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (m *Metrics) route(name string) *routeMetrics {
	if name == "" {
		name = "none"
	}
	if r, ok := m.routeCache.Load(name); ok {
		return r.(*routeMetrics)
	}
	r := &routeMetrics{
		handled:  m.handled.WithLabelValues(name),
		errs:     m.errors.WithLabelValues(name, "error"),
		panics:   m.errors.WithLabelValues(name, "panic"),
		duration: m.duration.WithLabelValues(name),
	}
	v, _ := m.routeCache.LoadOrStore(name, r)
	return v.(*routeMetrics)
}

// Handled implements bot.Observer.
func (m *Metrics) Handled(e bot.HandledEvent) {
	r := m.route(e.Route)
	r.handled.Inc()
	r.duration.Observe(e.Duration.Seconds())
	switch {
	case e.Panic:
		r.panics.Inc()
	case e.Err != nil:
		r.errs.Inc()
	}
	if t := m.tap.Load(); t != nil {
		(*t).Handled(e)
	}
}

// setTap makes m pass the message events on to o too.
func (m *Metrics) setTap(o bot.Observer) { m.tap.Store(&o) }

// Sent implements bot.Observer.
func (m *Metrics) Sent(e bot.SendEvent) {
	if t := m.tap.Load(); t != nil {
		(*t).Sent(e)
	}
	m.sends.Inc()
	if e.Err != nil {
		m.sendFails.WithLabelValues(sendReason(e.Err)).Inc()
		return
	}
	m.sendDur.Observe(e.Duration.Seconds())
}

func sendReason(err error) string {
	switch {
	case errors.Is(err, bot.ErrRateLimited):
		return "rate_limit"
	case errors.Is(err, bot.ErrLoopGuard):
		return "loop_guard"
	case errors.Is(err, bot.ErrNotConnected):
		return "not_connected"
	case errors.Is(err, bot.ErrInvalidTarget):
		return "invalid"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "timeout"
	}
	// What remains comes from the connection or the server (an error
	// code, a lost connection).
	return "gateway"
}

// SyncLag implements bot.Observer.
func (m *Metrics) SyncLag(sum, max int64) {
	m.lagSum.Set(float64(sum))
	m.lagMax.Set(float64(max))
}

// Committed implements bot.Observer.
func (m *Metrics) Committed(d time.Duration, writes int, err error) {
	if err != nil {
		m.commitFail.Inc()
		return
	}
	m.commitDur.Observe(d.Seconds())
}

// counters returns the current value of every openimbot_ metric, summed
// over labels (a histogram gives its count), for the console's live
// counters.
func (m *Metrics) counters() map[string]float64 {
	out := map[string]float64{}
	fams, err := m.reg.Gather()
	if err != nil && len(fams) == 0 {
		return out
	}
	for _, f := range fams {
		name := f.GetName()
		if !strings.HasPrefix(name, "openimbot_") {
			continue
		}
		var v float64
		for _, mt := range f.GetMetric() {
			switch {
			case mt.Counter != nil:
				v += mt.Counter.GetValue()
			case mt.Gauge != nil:
				v += mt.Gauge.GetValue()
			case mt.Histogram != nil:
				v += float64(mt.Histogram.GetSampleCount())
			}
		}
		out[strings.TrimPrefix(name, "openimbot_")] = v
	}
	return out
}
