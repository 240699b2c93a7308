// Package bot is the openimbot runtime: it connects a bot account through
// transport, keeps it in sync by seq with durable watermarks in storage, and
// dispatches every message to a Handler on a worker pool that keeps each
// conversation in order.
//
// # Writing a bot
//
// A bot is a Handler (usually a router.Router) and a few options:
//
//	b, err := bot.New(
//		bot.WithGateway("ws://127.0.0.1:10001"),
//		bot.WithUser("echo"),
//		bot.WithAdminSecret("http://127.0.0.1:10002", secret),
//		bot.WithStorage("echo.db"),
//		bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
//			return c.Reply(c.Text())
//		})),
//	)
//	err = b.Run(ctx)
//
// New does no I/O. Run opens the database, fetches a token if needed,
// connects, syncs and dispatches until ctx ends (then it drains and returns
// nil), Shutdown or Close is called, or a fatal error: a kick (ErrKicked),
// or a token that is rejected and cannot be refreshed.
//
// # Delivery guarantees
//
// Every stored message (seq > 0) of every conversation the bot is in is
// handled at least once, in seq order per conversation, across reconnects
// and restarts; a message is handled again only if the process died while it
// was in flight (handled, or being handled, but its watermark not yet
// durable). The sync engine does this:
//
//   - After every connect it asks for the newest seq of every conversation
//     and pulls each gap [delivered+1, newest] in requests of 20 to 100
//     seqs (sized so that an answer fits in the 1 MiB a client reads in one
//     frame), several requests in flight, delivering each conversation in
//     seq order, as offline messages (Context.Offline). Pushes wait
//     meanwhile. The memory of a catch-up is bounded by the requests in
//     flight and the shards' queues, whatever the backlog.
//   - A message alone over the 1 MiB read limit (sent through the REST
//     API) cannot be pulled: it is skipped and reported as a
//     *MessageTooLargeError.
//   - A conversation whose newest seq on the server is below its watermark
//     (the server's storage was reset) is reported as a *SeqResetError and
//     handled by WithSeqReset (default: the watermark follows the server's
//     seqs, so new messages are handled).
//   - A push whose seq is above delivered+1 first pulls the gap; a push at
//     or below delivered (counting messages queued or being handled) is a
//     duplicate and dropped; a push without a seq (online-only messages) is
//     dispatched once, deduplicated by clientMsgID in storage's window.
//   - Placeholders of deleted messages (status 4), seqs the server no
//     longer returns, and the bot's own messages advance the watermark
//     without being dispatched (see WithDispatchSelf).
//   - A conversation's watermark advances only after its handler returned,
//     in order. Storage writes it with group commit, one commit at most
//     every DefaultCommitDelay; Shutdown and Close flush it. After a crash
//     the messages handled since the last commit are delivered again.
//   - On the first start of a database, WithBacklog says what happens to
//     history: skip it (the default), handle all of it, or the last N
//     messages per conversation. Conversations that appear later are always
//     handled from their first message.
//
// Notification streams (conversation IDs starting with n_) are synced and
// dispatched like any conversation.
//
// # Concurrency
//
// Messages are dispatched to WithWorkers shards, each a goroutine with a
// bounded queue (WithQueueSize); a conversation always goes to the same
// shard (a hash of its ID), so it is handled in order, and conversations
// on different shards are handled in parallel. Conversations that share a
// shard share its order: a slow handler delays the other conversations of
// its shard, never those of other shards. When a shard's queue is full, or
// the shards hold 4096 messages in all, the sync engine waits
// (backpressure); the transport queues pushes meanwhile and, past its own
// limit (4096 messages), drops them (the connection stays up), after which
// the bot pulls the missed messages by seq. A reply waits for the
// connection while it is down (until its handler's ctx ends), but the
// transport redials meanwhile: blocked handlers never keep the bot from
// reconnecting.
//
// Handlers may block (a Reply waits for the gateway's answer); each runs with
// a Context whose ctx is cancelled after WithHandlerTimeout or when the bot
// is closed. A panic is recovered for that one message and reported as a
// *HandlerError (with the stack) to WithOnError and the log, as is a
// returned error; the message then counts as handled.
//
// Lifecycle hooks (WithOnConnecting, WithOnConnected, WithOnSynced,
// WithOnConnectFailed, WithOnDisconnected, WithOnKicked,
// WithOnTokenInvalid) run in order on the bot's event goroutine and must
// not block. WithOnError may be called from any goroutine.
//
// All methods of Bot are safe for concurrent use. A Context belongs to one
// handler invocation.
//
// # Dialogs
//
// Context.Ask and Context.Wait let a handler wait for the next message of
// the same user in the same conversation: that message goes to the
// waiting handler instead of the Handler chain. A waiting handler does not
// hold its shard: the shard's worker goes on in a new goroutine, other
// users and conversations are handled meanwhile, and the conversation's
// messages still reach handlers one at a time, in order. Waits end with
// their timeout (WithClock gives the clock), a cancel word, or the bot
// stopping. A dialog lives in memory: see Wait for what a crash does to
// it.
//
// # Sending
//
// Context.Reply answers in the message's conversation (ReplyQuote quotes
// it, ReplyMention @-mentions the sender in groups); Context.Send and
// Bot.Send send any content element to any user or group. Every send is
// subject to a per-conversation token bucket (WithRateLimit, default 5
// messages a second with bursts of 10) and fails at once with a
// *RateLimitError when over it. The bot's own messages are never
// dispatched back to it unless WithDispatchSelf(true), so a bot that
// answers everything cannot loop on itself. Two bots answering each other
// are stopped by the loop guard (WithLoopGuard, default 5): a handler's
// sends into a conversation in answer to bots' messages are counted since
// the last human message there, and those over the limit fail with a
// *LoopGuardError; every message the bot sends carries a marker in its ex
// field so that other bots of this framework know it for a bot's.
//
// # The OpenIM API
//
// Context.API (and Bot.API) is the HTTP API as the bot's own user, with the
// token of the running session: users, groups, members and roles, invite,
// kick, mute, member roles and nicknames, transfer, dismiss, revoke, read
// marks, conversations. The server applies its rules for the bot's role in
// each group; its refusals are *transport.APIError. User, Member and Role
// answers are cached for DefaultMemberCacheTTL, and any group notification
// of a group drops that group's entries before the notification reaches the
// handler; concurrent lookups of one key make one call. Bot.SelfProfile
// reads the bot's own profile; Bot.SyncNow pulls what the server has that
// the bot has not seen.
//
// # Receive modes
//
// Messages come from a Source and replies leave through a MsgSender
// (source.go); the sync engine, dispatch and handlers above are the same
// whatever the mode. The default is the gateway websocket. WithPoll
// receives over the HTTP API only (/msg/newest_seq, then
// /msg/pull_msg_by_seq for the gaps), WithWebhook through OpenIM's
// after-send callbacks, each of which makes the bot pull by seq at once, a
// full sync every reconcile period recovering dropped callbacks; both send
// through the admin-only /msg/send_msg and so need WithAdminSecret.
// WithFallbackPoll polls while the websocket cannot be established and
// returns to it. WithSource and WithSender plug in another source, such as
// a message broker. Context.Source reports the mode.
//
// Package bottest runs a bot against an in-process sandbox for tests.
package bot
