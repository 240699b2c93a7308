package config

import "net"

// Cluster configures scale-out over NATS JetStream (openimbot run -role
// ingress|worker); the all-in-one run ignores it.
type Cluster struct {
	// NATSURL is an existing NATS server or cluster with JetStream, e.g.
	// nats://10.0.0.1:4222 (several comma-separated). Required by workers;
	// empty on the ingress means it embeds a NATS server listening on
	// Listen and storing its files next to the database.
	NATSURL string `yaml:"nats_url"`
	// Listen is the client address of the embedded NATS server; default
	// 127.0.0.1:4222.
	Listen string `yaml:"listen"`
	// Partitions is the number of partitions the messages are spread over
	// (by conversation); default 16. The same for every process of a bot.
	Partitions int `yaml:"partitions"`
	// Replicas is how many copies JetStream keeps (1 on one server, 3 on a
	// cluster of three or more); default 1.
	Replicas int `yaml:"replicas"`
}

// DefaultClusterListen is the embedded NATS server's default address.
const DefaultClusterListen = "127.0.0.1:4222"

// validateCluster checks the cluster section.
func (c *Config) validateCluster(bad func(path, format string, args ...any)) {
	cl := &c.Cluster
	if cl.Partitions < 1 || cl.Partitions > 4096 {
		bad("cluster.partitions", "want 1 to 4096, got %d", cl.Partitions)
	}
	if cl.Replicas < 1 || cl.Replicas > 5 {
		bad("cluster.replicas", "want 1 to 5, got %d", cl.Replicas)
	}
	if _, _, err := net.SplitHostPort(cl.Listen); err != nil {
		bad("cluster.listen", "want host:port (e.g. 127.0.0.1:4222), got %q", short(cl.Listen))
	}
}
