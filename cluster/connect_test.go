package cluster_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/openimbot/openimbot/cluster"
)

// Connect says what is wrong: no URL, nothing listening, no JetStream.
func TestConnectErrors(t *testing.T) {
	ctx := context.Background()
	if _, _, err := cluster.Connect(ctx, "", "w"); err == nil || !strings.Contains(err.Error(), "no NATS URL (cluster.nats_url)") {
		t.Errorf("no URL: %v", err)
	}
	port := freePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	if _, _, err := cluster.Connect(ctx, url, "w"); err == nil || !strings.Contains(err.Error(), "cannot reach NATS at "+url) {
		t.Errorf("nothing listening: %v", err)
	}
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	defer s.Shutdown()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	_, _, err = cluster.Connect(ctx, s.ClientURL(), "w")
	if err == nil || !strings.Contains(err.Error(), "has no JetStream (start nats-server with -js)") {
		t.Errorf("no JetStream: %v", err)
	}
	t.Logf("no URL / unreachable / no JetStream: %v", err)
}
