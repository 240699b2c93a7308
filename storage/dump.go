package storage

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// DumpRecord is one line of Dump's output. Kind is "schema", "watermark",
// "dedup" or "namespace"; only the fields of that kind are set.
type DumpRecord struct {
	Kind           string    `json:"kind"`
	Version        int       `json:"version,omitempty"`
	ConversationID string    `json:"conversationID,omitempty"`
	Seq            *int64    `json:"seq,omitempty"`
	ClientMsgID    string    `json:"clientMsgID,omitempty"`
	Time           time.Time `json:"time,omitzero"`
	Namespace      string    `json:"namespace,omitempty"`
	Key            string    `json:"key,omitempty"`
	Value          *string   `json:"value,omitempty"`       // the value, when it is UTF-8 text
	ValueBytes     []byte    `json:"valueBase64,omitempty"` // the value otherwise (base64 in JSON)
}

// Dump writes the durable contents of the database to w as JSON lines (one
// DumpRecord per line): the schema version, then watermarks by conversation,
// dedup entries oldest first, and namespace keys by namespace and key. Writes
// still queued are not included; call Flush first to include them. Safe for
// concurrent use; it holds one read transaction for the whole dump.
func (db *DB) Dump(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	err := db.view(func(tx *bolt.Tx) error {
		if err := enc.Encode(DumpRecord{Kind: "schema", Version: SchemaVersion}); err != nil {
			return err
		}
		if b := tx.Bucket([]byte(bucketWatermarks)); b != nil {
			if err := b.ForEach(func(k, v []byte) error {
				if len(v) != 8 {
					return fmt.Errorf("%w: watermark of %q has %d bytes", ErrCorrupt, k, len(v))
				}
				seq := int64(binary.BigEndian.Uint64(v))
				return enc.Encode(DumpRecord{Kind: "watermark", ConversationID: string(k), Seq: &seq})
			}); err != nil {
				return err
			}
		}
		if b := tx.Bucket([]byte(bucketDedup)); b != nil {
			if err := b.ForEach(func(k, _ []byte) error {
				if len(k) <= 8 {
					return fmt.Errorf("%w: dedup key of %d bytes", ErrCorrupt, len(k))
				}
				t := time.Unix(0, int64(binary.BigEndian.Uint64(k))).UTC()
				return enc.Encode(DumpRecord{Kind: "dedup", ClientMsgID: string(k[8:]), Time: t})
			}); err != nil {
				return err
			}
		}
		nsb := tx.Bucket([]byte(bucketNS))
		if nsb == nil {
			return nil
		}
		return nsb.ForEachBucket(func(name []byte) error {
			return nsb.Bucket(name).ForEach(func(k, v []byte) error {
				r := DumpRecord{Kind: "namespace", Namespace: string(name), Key: string(k)}
				if utf8.Valid(v) {
					s := string(v)
					r.Value = &s
				} else {
					r.ValueBytes = v
				}
				return enc.Encode(r)
			})
		})
	})
	if err != nil {
		return fmt.Errorf("storage: dump %s: %w", db.path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("storage: dump %s: %w", db.path, err)
	}
	return nil
}
