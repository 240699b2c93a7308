package transport

import (
	"fmt"
	"testing"

	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// The read loop reuses its frame buffer (and the wire decoder its inflate
// and base64 buffers), and a decoded envelope's Data aliases them. Nothing
// a push event or a reply hands out may keep pointing into those buffers:
// every message of many same-sized frames, read only after all of them
// arrived, must still hold its own bytes.
func TestDecodedMessagesSurviveFrameBufferReuse(t *testing.T) {
	for _, tc := range []struct {
		name string
		comp Compression
		enc  Encoding
	}{
		{"gob", CompressNone, EncodingGob},
		{"gob-gzip", CompressGzip, EncodingGob},
		{"json", CompressNone, EncodingJSON},
		{"json-gzip", CompressGzip, EncodingJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw := newFakeGW(t)
			cfg := testConfig(gw)
			cfg.Compression, cfg.Encoding = tc.comp, tc.enc
			r := start(t, cfg)
			fc := gw.accept(t)
			r.waitEvent(t, EventConnected)

			// Same-length texts so that every frame lands on the same
			// buffer bytes as the one before.
			msgAt := func(i, j int) *sdkws.MsgData {
				md := textMsg(fmt.Sprintf("u%03d", i), "bot", int64(100*i+j), fmt.Sprintf("text-%03d-%d", i, j))
				md.AtUserIDList = []string{fmt.Sprintf("at%03d", i)}
				md.Options = map[string]bool{fmt.Sprintf("k%03d", i): true}
				return md
			}
			const n = 40
			want := map[int64]*sdkws.MsgData{}
			for i := range n {
				a, b, c := msgAt(i, 1), msgAt(i, 2), msgAt(i, 3)
				want[a.Seq], want[b.Seq], want[c.Seq] = a, b, c
				fc.push(t, &sdkws.PushMessages{
					Msgs:             map[string]*sdkws.PullMsgs{fmt.Sprintf("si_bot_u%03d", i): {Msgs: []*sdkws.MsgData{a, b}}},
					NotificationMsgs: map[string]*sdkws.PullMsgs{fmt.Sprintf("n_bot_u%03d", i): {Msgs: []*sdkws.MsgData{c}}},
				})
			}
			// A pull whose reply is followed at once by frames that reuse
			// the buffer before the caller decodes the reply.
			pulled := msgAt(n, 1)
			go func() {
				req := fc.nextReq(t)
				fc.reply(t, req, 0, &sdkws.PullMessageBySeqsResp{Msgs: map[string]*sdkws.PullMsgs{"si_bot_u040": {Msgs: []*sdkws.MsgData{pulled}}}})
				for i := range 5 {
					fc.push(t, pushOf("si_bot_zzzz", msgAt(n+1+i, 9)))
				}
			}()
			res, err := r.c.PullRange(ctxT(t, 5e9), []SeqRange{{ConversationID: "si_bot_u040", Begin: pulled.Seq, End: pulled.Seq}})
			if err != nil {
				t.Fatal(err)
			}
			if pr := res["si_bot_u040"]; len(pr.Messages) != 1 {
				t.Fatalf("pull result %+v", res)
			} else {
				checkMessage(t, &pr.Messages[0], pulled)
			}

			got := 0
			for got < len(want) {
				e := r.waitEvent(t, EventPush)
				for k := range e.Messages {
					m := &e.Messages[k]
					md, ok := want[m.Seq]
					if !ok {
						continue // one of the trailing pushes
					}
					checkMessage(t, m, md)
					wantConv := fmt.Sprintf("si_bot_%s", md.SendID)
					if md.Seq%100 == 3 {
						wantConv = fmt.Sprintf("n_bot_%s", md.SendID)
					}
					if m.ConversationID != wantConv {
						t.Errorf("seq %d: ConversationID %q, want %q", m.Seq, m.ConversationID, wantConv)
					}
					got++
				}
			}
		})
	}
}
