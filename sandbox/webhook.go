package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// Webhook defaults, as in OpenIM's webhooks.yml and its webhook client.
const (
	DefaultWebhookTimeout = 5 * time.Second
	DefaultWebhookQueue   = 100
	DefaultWebhookWorkers = 2
)

// The callback commands the sandbox posts: the URL suffix and the
// callbackCommand field of the body.
const (
	CallbackAfterSendSingleMsg = "callbackAfterSendSingleMsgCommand"
	CallbackAfterSendGroupMsg  = "callbackAfterSendGroupMsgCommand"
)

// WebhookConfig configures the afterSendSingleMsg / afterSendGroupMsg
// callbacks. The sandbox posts them as OpenIM does: asynchronously, after
// the message was accepted, from a queue of Queue callbacks served by
// Workers goroutines, each POST bounded by Timeout, never retried. A
// callback that finds the queue full is dropped (OpenIM's queue waits up
// to 100 ms first; the sandbox cannot wait while it holds the message).
// Typing messages (113) and notification-chat messages (session type 4)
// have no callback.
type WebhookConfig struct {
	// URL is the base URL; a callback goes to URL + "/" + command, e.g.
	// http://127.0.0.1:10006/callbackExample/callbackAfterSendSingleMsgCommand.
	// Empty disables the callbacks.
	URL string
	// Timeout bounds one POST; default 5s.
	Timeout time.Duration
	// Queue is the number of callbacks waiting to be posted; default 100.
	Queue int
	// Workers is the number of concurrent POSTs; default 2.
	Workers int
}

// WebhookFaults injects faults into the callbacks (tests). Zero values
// disable each fault.
type WebhookFaults struct {
	DropEvery      int           // every DropEvery-th callback is not posted
	DuplicateEvery int           // every DuplicateEvery-th callback is posted twice
	Delay          time.Duration // each POST waits this long first
	// Reorder > 1 makes each worker take a random one of the first Reorder
	// waiting callbacks instead of the oldest.
	Reorder int
}

// WebhookStats counts the callbacks since the webhook was configured.
type WebhookStats struct {
	Queued     int64 // accepted into the queue (duplicates included)
	Posted     int64 // answered with HTTP 200 and a success body
	Failed     int64 // POST failed, timed out or was answered with an error
	Dropped    int64 // dropped by DropEvery
	Overflowed int64 // dropped because the queue was full
}

// callbackBody is the body of an after-send callback: OpenIM's
// CommonCallbackReq plus recvID (single chat) or groupID (group chat).
type callbackBody struct {
	SendID           string   `json:"sendID"`
	CallbackCommand  string   `json:"callbackCommand"`
	ServerMsgID      string   `json:"serverMsgID"`
	ClientMsgID      string   `json:"clientMsgID"`
	OperationID      string   `json:"operationID"`
	SenderPlatformID int32    `json:"senderPlatformID"`
	SenderNickname   string   `json:"senderNickname"`
	SessionType      int32    `json:"sessionType"`
	MsgFrom          int32    `json:"msgFrom"`
	ContentType      int32    `json:"contentType"`
	Status           int32    `json:"status"`
	SendTime         int64    `json:"sendTime"`
	CreateTime       int64    `json:"createTime"`
	Content          string   `json:"content"`
	Seq              uint32   `json:"seq"`
	AtUserList       []string `json:"atUserList"`
	FaceURL          string   `json:"faceURL"`
	Ex               string   `json:"ex"`
	RecvID           *string  `json:"recvID,omitempty"`
	GroupID          *string  `json:"groupID,omitempty"`
}

type callback struct {
	url, operationID string
	body             []byte
}

// webhooker posts the callbacks of one Server.
type webhooker struct {
	cfg WebhookConfig
	hc  *http.Client
	log interface {
		Info(string, ...any)
		Warn(string, ...any)
	}

	mu      sync.Mutex
	queue   []callback
	faults  WebhookFaults
	n       int64 // callbacks seen, for DropEvery / DuplicateEvery
	stopped bool
	wake    chan struct{}
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc

	queued, posted, failed, dropped, overflowed atomic.Int64
}

func newWebhooker(cfg WebhookConfig, s *Server) *webhooker {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultWebhookTimeout
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultWebhookQueue
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWebhookWorkers
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	w := &webhooker{
		cfg:  cfg,
		hc:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Workers * 2}},
		log:  s.log,
		wake: make(chan struct{}, cfg.Workers),
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	for range cfg.Workers {
		w.wg.Add(1)
		go w.work()
	}
	return w
}

// SetWebhook starts posting after-send callbacks as cfg says (an empty
// cfg.URL stops them); it replaces an earlier configuration (callbacks
// still queued for it are discarded) and resets the counters and faults.
// Config.Webhook sets the first one at Start.
func (s *Server) SetWebhook(cfg WebhookConfig) {
	s.mu.Lock()
	old := s.hooks
	s.hooks = nil
	if cfg.URL != "" && !s.closed {
		s.hooks = newWebhooker(cfg, s)
	}
	s.mu.Unlock()
	if old != nil {
		old.stop()
	}
}

// SetWebhookFaults sets the faults of the configured webhook (no effect
// without one).
func (s *Server) SetWebhookFaults(f WebhookFaults) {
	s.mu.Lock()
	w := s.hooks
	s.mu.Unlock()
	if w == nil {
		return
	}
	w.mu.Lock()
	w.faults = f
	w.mu.Unlock()
}

// WebhookStats returns the counters of the configured webhook (zero
// without one).
func (s *Server) WebhookStats() WebhookStats {
	s.mu.Lock()
	w := s.hooks
	s.mu.Unlock()
	if w == nil {
		return WebhookStats{}
	}
	return WebhookStats{Queued: w.queued.Load(), Posted: w.posted.Load(), Failed: w.failed.Load(),
		Dropped: w.dropped.Load(), Overflowed: w.overflowed.Load()}
}

// stopWebhook stops the callbacks (Close).
func (s *Server) stopWebhook() {
	s.mu.Lock()
	w := s.hooks
	s.hooks = nil
	s.mu.Unlock()
	if w != nil {
		w.stop()
	}
}

// webhookLocked queues the after-send callback of an accepted message.
// s.mu is held; nothing here blocks.
func (s *Server) webhookLocked(md *sdkws.MsgData, operationID string) {
	w := s.hooks
	if w == nil || md.ContentType == int32(content.TypeTyping) {
		return
	}
	body := callbackBody{
		SendID: md.SendID, ServerMsgID: md.ServerMsgID, ClientMsgID: md.ClientMsgID, OperationID: operationID,
		SenderPlatformID: md.SenderPlatformID, SenderNickname: md.SenderNickname, SessionType: md.SessionType,
		MsgFrom: md.MsgFrom, ContentType: md.ContentType, Status: md.Status, SendTime: md.SendTime,
		CreateTime: md.CreateTime, Content: callbackContent(md), AtUserList: md.AtUserIDList,
		FaceURL: md.SenderFaceURL, Ex: md.Ex,
		// The callback fires before the seq is assigned: seq is 0.
	}
	switch content.SessionType(md.SessionType) {
	case content.SingleChat:
		body.CallbackCommand = CallbackAfterSendSingleMsg
		r := md.RecvID
		body.RecvID = &r
	case content.ReadGroupChat, content.WriteGroupChat:
		body.CallbackCommand = CallbackAfterSendGroupMsg
		g := md.GroupID
		body.GroupID = &g
	default:
		return
	}
	if body.OperationID == "" {
		body.OperationID = newID()
	}
	raw, err := json.Marshal(body)
	if err != nil {
		s.log.Warn("sandbox: webhook: encode callback", "err", err)
		return
	}
	w.put(callback{url: w.cfg.URL + "/" + body.CallbackCommand, operationID: body.OperationID, body: raw})
}

// callbackContent is the content field of a callback: the content as a
// string, or for a notification the JSON of its tips (the detail).
func callbackContent(md *sdkws.MsgData) string {
	if md.ContentType >= 1000 && md.ContentType <= 5000 {
		var n struct {
			Detail string `json:"detail"`
		}
		if json.Unmarshal(md.Content, &n) == nil {
			return n.Detail
		}
	}
	return string(md.Content)
}

func (w *webhooker) put(cb callback) {
	w.mu.Lock()
	w.n++
	f := w.faults
	if f.DropEvery > 0 && w.n%int64(f.DropEvery) == 0 {
		w.mu.Unlock()
		w.dropped.Add(1)
		return
	}
	copies := 1
	if f.DuplicateEvery > 0 && w.n%int64(f.DuplicateEvery) == 0 {
		copies = 2
	}
	for range copies {
		if w.stopped {
			break
		}
		if len(w.queue) >= w.cfg.Queue {
			w.overflowed.Add(1)
			w.log.Warn("sandbox: webhook: queue full; callback dropped", "url", cb.url)
			continue
		}
		w.queue = append(w.queue, cb)
		w.queued.Add(1)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// take returns the next callback to post, waiting for one; false when
// stopped.
func (w *webhooker) take() (callback, time.Duration, bool) {
	for {
		w.mu.Lock()
		if w.stopped {
			w.mu.Unlock()
			return callback{}, 0, false
		}
		if len(w.queue) > 0 {
			i := 0
			if r := w.faults.Reorder; r > 1 {
				i = rand.IntN(min(r, len(w.queue)))
			}
			cb := w.queue[i]
			w.queue = append(w.queue[:i], w.queue[i+1:]...)
			more := len(w.queue) > 0
			delay := w.faults.Delay
			w.mu.Unlock()
			if more {
				select {
				case w.wake <- struct{}{}:
				default:
				}
			}
			return cb, delay, true
		}
		w.mu.Unlock()
		select {
		case <-w.wake:
		case <-w.ctx.Done():
			return callback{}, 0, false
		}
	}
}

func (w *webhooker) work() {
	defer w.wg.Done()
	for {
		cb, delay, ok := w.take()
		if !ok {
			return
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-w.ctx.Done():
				t.Stop()
				return
			}
		}
		if err := w.post(cb); err != nil {
			w.failed.Add(1)
			w.log.Warn("sandbox: webhook: callback failed", "url", cb.url, "operationID", cb.operationID, "err", err)
		} else {
			w.posted.Add(1)
		}
	}
}

// post sends one callback and checks the answer as OpenIM does: a JSON
// body whose actionCode is 0 (a nextCode of 1 would be a rejection).
func (w *webhooker) post(cb callback) error {
	ctx, cancel := context.WithTimeout(w.ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cb.url, bytes.NewReader(cb.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("operationID", cb.operationID)
	resp, err := w.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP status %s", resp.Status)
	}
	var out struct {
		ActionCode int32  `json:"actionCode"`
		ErrCode    int32  `json:"errCode"`
		ErrMsg     string `json:"errMsg"`
		NextCode   int32  `json:"nextCode"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return fmt.Errorf("response format error: %w", err)
	}
	if out.ActionCode == 0 && out.NextCode == 1 {
		return fmt.Errorf("rejected: errCode %d %s", out.ErrCode, out.ErrMsg)
	}
	return nil
}

func (w *webhooker) stop() {
	w.mu.Lock()
	w.stopped = true
	w.queue = nil
	w.mu.Unlock()
	w.cancel()
	w.wg.Wait()
	w.hc.CloseIdleConnections()
}
