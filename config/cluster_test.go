package config_test

import (
	"strings"
	"testing"

	"github.com/openimbot/openimbot/config"
)

func TestClusterSection(t *testing.T) {
	c, err := config.Parse("c.yaml", []byte("cluster:\n  nats_url: nats://10.0.0.1:4222\n  replicas: 3\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Cluster; got.NATSURL != "nats://10.0.0.1:4222" || got.Replicas != 3 || got.Partitions != 16 || got.Listen != config.DefaultClusterListen {
		t.Errorf("cluster = %+v", got)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"cluster:\n  partitions: 0\n", "c.yaml:2:15: cluster.partitions: want 1 to 4096, got 0"},
		{"cluster:\n  replicas: 9\n", "cluster.replicas: want 1 to 5, got 9"},
		{"cluster:\n  listen: nowhere\n", "cluster.listen: want host:port"},
	} {
		_, err := config.Parse("c.yaml", []byte(tc.yaml), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
