package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/cluster"
	"github.com/openimbot/openimbot/router"
	"github.com/openimbot/openimbot/storage"
)

// Roles of `openimbot run -role`.
const (
	roleAll     = "all"
	roleIngress = "ingress"
	roleWorker  = "worker"
)

func checkRole(role string) error {
	switch role {
	case "", roleAll, roleIngress, roleWorker:
		return nil
	}
	return fmt.Errorf("run: -role %q: want all, ingress or worker", role)
}

// clusterConfig is the cluster package's configuration from the file.
func (r *runner) clusterConfig() cluster.Config {
	c := r.cfg.Cluster
	url := c.NATSURL
	if r.natsURL != "" {
		url = r.natsURL
	}
	return cluster.Config{
		NATSURL: url, BotID: r.cfg.OpenIM.UserID, Partitions: c.Partitions, Replicas: c.Replicas,
		Logger: r.log.With("component", "cluster"),
	}
}

// startIngress connects to cluster.nats_url, or starts the embedded NATS
// server next to the database when it is empty, and prepares the ingress.
// The returned func closes what it started.
func (r *runner) startIngress(ctx context.Context, dbPath string) (*cluster.Ingress, func(), error) {
	cc := r.clusterConfig()
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	url := cc.NATSURL
	if url == "" {
		e, err := cluster.StartEmbedded(cluster.EmbeddedOptions{Listen: r.cfg.Cluster.Listen, StoreDir: dbPath + ".nats"})
		if err != nil {
			return nil, nil, err
		}
		closers = append(closers, e.Close)
		url = e.URL()
		r.log.Info("embedded NATS started", "url", url, "store", dbPath+".nats")
	}
	nc, js, err := cluster.Connect(ctx, url, "openimbot ingress "+cc.BotID)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	closers = append(closers, nc.Close)
	in, err := cluster.NewIngress(ctx, cc, nc, js)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	// The ingress's namespaces (the schedules' ledger of last runs, the
	// runtime's first-sync mark) live in JetStream too, so that a standby
	// taking over knows what the active one did.
	be, err := cluster.Namespaces(ctx, cc, js)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	r.db.SetNamespaceBackend(be)
	r.log.Info("role: ingress", "nats", url, "partitions", cc.Partitions)
	return in, closeAll, nil
}

// runBot runs b: as the ingress (lease, watermarks in JetStream, send
// service) with -role ingress, else on its own.
func (r *runner) runBot(ctx context.Context, b *bot.Bot, db *storage.DB) error {
	if r.ingress != nil {
		return r.ingress.Run(ctx, b, db)
	}
	return b.Run(ctx)
}

// runWorker is `openimbot run -role worker`: the plugins and rules of the
// file run on the messages of the partitions this process holds; nothing
// connects to OpenIM.
func (r *runner) runWorker() error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cc := r.clusterConfig()
	nc, js, err := cluster.Connect(ctx, cc.NATSURL, "openimbot worker "+cc.BotID)
	if err != nil {
		return err
	}
	defer nc.Close()
	w, err := cluster.NewWorker(ctx, cc, nc, js)
	if err != nil {
		return err
	}
	// The worker's own database file is per process (temporary); its
	// plugin namespaces are in JetStream.
	dir, err := os.MkdirTemp("", "openimbot-worker-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := storage.Open(filepath.Join(dir, "worker.db"), bot.StorageOptions(r.log.With("component", "storage")))
	if err != nil {
		return err
	}
	defer db.Close()
	// Plugin namespaces live in JetStream, shared by every worker.
	be, err := cluster.Namespaces(ctx, cc, js)
	if err != nil {
		return err
	}
	db.SetNamespaceBackend(be)
	r.db = db
	rt, err := r.cli.buildRouter(r.cfg, db, r.log)
	if err != nil {
		return err
	}
	r.live = router.NewLive(rt)
	o := r.cfg.OpenIM
	opts := []bot.Option{
		bot.WithUser(o.UserID), bot.WithDB(db), bot.WithHandler(r.live),
		bot.WithRateLimit(r.cfg.Send.Rate, r.cfg.Send.Burst), bot.WithLoopGuard(r.cfg.Send.LoopGuard),
		bot.WithLogger(r.log),
	}
	if o.Nickname != "" {
		opts = append(opts, bot.WithNickname(o.Nickname))
	}
	b, err := bot.New(append(opts, w.BotOption())...)
	if err != nil {
		return err
	}
	r.log.Info("role: worker", "nats", cc.NATSURL, "worker", w.ID(), "partitions", cc.Partitions)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, b) }()
	for {
		select {
		case err := <-done:
			return err
		case sig := <-r.signals:
			if sig == syscall.SIGHUP {
				if err := r.reload(); err != nil {
					r.log.Error("reload failed; keeping the current rules", "file", r.path, "err", err)
				} else {
					r.log.Info("reloaded", "file", r.path)
				}
				continue
			}
			r.log.Info("shutting down", "signal", sig.String())
			cancel()
			select {
			case err := <-done:
				return err
			case <-time.After(20 * time.Second):
				return fmt.Errorf("worker: did not stop within 20s")
			}
		}
	}
}
