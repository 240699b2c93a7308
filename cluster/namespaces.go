package cluster

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/openimbot/openimbot/storage"
)

// kvNamespaces backs plugin namespaces with a JetStream key-value bucket,
// shared by every process of a bot. A key is "<ns>.<key>", both base64url
// (the bucket's keys allow few characters).
type kvNamespaces struct {
	kv      jetstream.KeyValue
	timeout time.Duration
}

var b64 = base64.RawURLEncoding

// Namespaces returns the storage backend of the bot's plugin namespaces: a
// key-value bucket every worker shares (storage.DB.SetNamespaceBackend), so
// that cooldowns and plugin data are the same whichever worker handles a
// message.
func Namespaces(ctx context.Context, cfg Config, js jetstream.JetStream) (storage.NamespaceBackend, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	n := cfg.names()
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: n.prefix + "_" + n.bot + "_plugins", Replicas: cfg.Replicas, Storage: jetstream.FileStorage, History: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: plugin namespaces bucket: %w", err)
	}
	return &kvNamespaces{kv: kv, timeout: 10 * time.Second}, nil
}

func nsKey(ns, key string) string {
	return b64.EncodeToString([]byte(ns)) + "." + b64.EncodeToString([]byte(key))
}

func (k *kvNamespaces) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), k.timeout)
}

func (k *kvNamespaces) Get(ns, key string) ([]byte, bool, error) {
	ctx, cancel := k.ctx()
	defer cancel()
	e, err := k.kv.Get(ctx, nsKey(ns, key))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cluster: namespace %q get %q: %w", ns, key, err)
	}
	return e.Value(), true, nil
}

func (k *kvNamespaces) Put(ns, key string, value []byte) error {
	ctx, cancel := k.ctx()
	defer cancel()
	if _, err := k.kv.Put(ctx, nsKey(ns, key), value); err != nil {
		return fmt.Errorf("cluster: namespace %q put %q: %w", ns, key, err)
	}
	return nil
}

func (k *kvNamespaces) Delete(ns, key string) error {
	ctx, cancel := k.ctx()
	defer cancel()
	if err := k.kv.Delete(ctx, nsKey(ns, key)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("cluster: namespace %q delete %q: %w", ns, key, err)
	}
	return nil
}

func (k *kvNamespaces) ForEach(ns string, fn func(key string, value []byte) error) error {
	ctx, cancel := k.ctx()
	prefix := b64.EncodeToString([]byte(ns)) + "."
	lister, err := k.kv.ListKeysFiltered(ctx, prefix+">")
	if err != nil {
		cancel()
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil
		}
		return fmt.Errorf("cluster: namespace %q for each: %w", ns, err)
	}
	var keys []string
	for kk := range lister.Keys() {
		if raw, err := b64.DecodeString(strings.TrimPrefix(kk, prefix)); err == nil {
			keys = append(keys, string(raw))
		}
	}
	cancel()
	slices.Sort(keys)
	for _, key := range keys {
		v, ok, err := k.Get(ns, key)
		if err != nil {
			return err
		}
		if !ok {
			continue // deleted meanwhile
		}
		if err := fn(key, v); err != nil {
			return err
		}
	}
	return nil
}
