package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config is what the ingress and the workers of one bot share.
type Config struct {
	// NATSURL is the NATS server or cluster (with JetStream), e.g.
	// "nats://10.0.0.1:4222,nats://10.0.0.2:4222". Required by workers.
	NATSURL string
	// BotID is the bot's user ID; it names the stream, the buckets and
	// the subjects. Required.
	BotID string
	// Partitions is the number of partitions; default 16. It must be the
	// same for every process of a bot and cannot change once the stream
	// exists (messages already in it stay where they were).
	Partitions int
	// Replicas is the number of copies JetStream keeps of the stream and
	// buckets (1 on a single server; 3 on a cluster of 3 or more).
	// Default 1.
	Replicas int
	// Prefix is the first subject token; default "openimbot".
	Prefix string
	// LeaseTTL is how long a lease (the active ingress, a worker's
	// partition) survives its holder; default 5s.
	LeaseTTL time.Duration
	// Logger logs role, partitions held and lag; nil: none.
	Logger *slog.Logger
}

func (c *Config) defaults() error {
	if c.BotID == "" {
		return errors.New("cluster: no bot ID")
	}
	if c.Partitions == 0 {
		c.Partitions = 16
	}
	if c.Partitions < 0 || c.Partitions > 4096 {
		return fmt.Errorf("cluster: partitions %d: want 1 to 4096", c.Partitions)
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		return fmt.Errorf("cluster: replicas %d: want 1 to 5", c.Replicas)
	}
	if c.Prefix == "" {
		c.Prefix = "openimbot"
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = 5 * time.Second
	}
	if c.LeaseTTL < 500*time.Millisecond {
		return fmt.Errorf("cluster: lease TTL %v below 500ms", c.LeaseTTL)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// token makes s usable as a subject token and in stream and bucket names.
func token(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, "_%x_", r)
		}
	}
	return b.String()
}

// names are the JetStream names of one bot.
type names struct {
	stream, subjects, sendSubj    string
	leases, members, ingress, wms string
	prefix, bot                   string
}

func (c *Config) names() names {
	p, b := token(c.Prefix), token(c.BotID)
	return names{
		prefix: p, bot: b,
		stream:   p + "_" + b,
		subjects: p + "." + b + ".*",
		sendSubj: p + ".rpc." + b + ".send",
		leases:   p + "_" + b + "_partitions",
		members:  p + "_" + b + "_workers",
		ingress:  p + "_" + b + "_ingress",
		wms:      p + "_" + b + "_watermarks",
	}
}

func (n names) subject(part int) string { return n.prefix + "." + n.bot + "." + strconv.Itoa(part) }

// consumer is the durable consumer name of a partition.
func consumerName(part int) string { return "p" + strconv.Itoa(part) }

// PartitionOf returns the partition of a conversation: FNV-1a of its ID,
// mixed by the murmur3 finalizer, modulo n. The mixing matters: the bot
// spreads conversations over its handler goroutines by FNV-1a modulo their
// count, and with the same hash a worker holding every other partition
// would use only every other goroutine.
func PartitionOf(conv string, n int) int {
	h := uint32(2166136261)
	for i := 0; i < len(conv); i++ {
		h ^= uint32(conv[i])
		h *= 16777619
	}
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return int(h % uint32(n))
}

// Connect connects to url and checks that JetStream answers, with errors
// that say which of the two failed. name is the connection's name as the
// server shows it.
func Connect(ctx context.Context, url, name string) (*nats.Conn, jetstream.JetStream, error) {
	if url == "" {
		return nil, nil, errors.New("cluster: no NATS URL (cluster.nats_url): a worker needs the NATS server the ingress uses")
	}
	nc, err := nats.Connect(url, nats.Name(name), nats.Timeout(5*time.Second),
		nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond), nats.RetryOnFailedConnect(false))
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: cannot reach NATS at %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("cluster: JetStream client for %s: %w", url, err)
	}
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(actx); err != nil {
		nc.Close()
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) ||
			errors.Is(err, nats.ErrNoResponders) {
			return nil, nil, fmt.Errorf("cluster: the NATS server at %s has no JetStream (start nats-server with -js): %w", url, err)
		}
		return nil, nil, fmt.Errorf("cluster: JetStream at %s does not answer: %w", url, err)
	}
	return nc, js, nil
}

// Embedded is a NATS server with JetStream run in this process: the
// one-machine default of the ingress and the test fixture.
type Embedded struct {
	Server *server.Server
}

// EmbeddedOptions configures StartEmbedded.
type EmbeddedOptions struct {
	// Listen is the client address; default 127.0.0.1:4222. Port 0 picks
	// a free one.
	Listen string
	// StoreDir is where JetStream keeps its files. Required.
	StoreDir string
	// ServerName names the server (required in a cluster).
	ServerName string
	// Cluster, when set, makes the server a member of a NATS cluster:
	// its name, the route address it listens on and the routes to the
	// others ("nats://127.0.0.1:6222").
	ClusterName, ClusterListen string
	Routes                     []string
}

// StartEmbedded starts a NATS server with JetStream and waits until it
// accepts connections.
func StartEmbedded(o EmbeddedOptions) (*Embedded, error) {
	if o.StoreDir == "" {
		return nil, errors.New("cluster: embedded NATS needs a store directory")
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:4222"
	}
	host, port, err := splitHostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("cluster: listen address %q: %w", o.Listen, err)
	}
	opts := &server.Options{
		ServerName: o.ServerName,
		Host:       host, Port: port,
		JetStream: true, StoreDir: o.StoreDir,
		NoSigs: true, NoLog: true,
	}
	if o.ClusterListen != "" {
		ch, cp, err := splitHostPort(o.ClusterListen)
		if err != nil {
			return nil, fmt.Errorf("cluster: cluster listen address %q: %w", o.ClusterListen, err)
		}
		opts.Cluster = server.ClusterOpts{Name: o.ClusterName, Host: ch, Port: cp}
		opts.Routes = server.RoutesFromStr(strings.Join(o.Routes, ","))
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("cluster: embedded NATS: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(15 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("cluster: embedded NATS did not start listening on %s within 15s (address in use?)", o.Listen)
	}
	return &Embedded{Server: s}, nil
}

// URL is the client URL of the embedded server.
func (e *Embedded) URL() string { return e.Server.ClientURL() }

// Close shuts the server down and waits for it.
func (e *Embedded) Close() {
	e.Server.Shutdown()
	e.Server.WaitForShutdown()
}

func splitHostPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	if n == 0 {
		n = server.RANDOM_PORT // 0 means the default port to nats-server
	}
	return h, n, nil
}

// setup creates or updates the stream and the buckets of a bot.
func setup(ctx context.Context, js jetstream.JetStream, c *Config) (jetstream.Stream, error) {
	n := c.names()
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       n.stream,
		Subjects:   []string{n.subjects},
		Retention:  jetstream.LimitsPolicy,
		MaxAge:     7 * 24 * time.Hour,
		Duplicates: 10 * time.Minute,
		Replicas:   c.Replicas,
		Storage:    jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: stream %s: %w", n.stream, err)
	}
	return st, nil
}

func bucket(ctx context.Context, js jetstream.JetStream, c *Config, name string, ttl time.Duration) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: name, TTL: ttl, Replicas: c.Replicas, Storage: jetstream.FileStorage, History: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: key-value bucket %s: %w", name, err)
	}
	return kv, nil
}
