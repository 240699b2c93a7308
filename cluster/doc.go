// Package cluster splits a bot over processes and machines with NATS
// JetStream: an ingress that holds the OpenIM account and workers that run
// the handlers.
//
// The ingress is an ordinary bot (any receive mode) whose only handler is
// Ingress.Handler: it publishes each message to the subject
// <prefix>.<bot>.<partition>, partition = PartitionOf(conversation ID), with
// the message ID "<conversation>#<seq>" so that JetStream drops a
// re-publish, and returns once the publish is acknowledged; the sync engine
// then advances the watermark, so a message is never marked handled before
// it is in the stream. The published seqs are also written (every 100ms) to
// a key-value bucket, from which a standby ingress resumes. Ingress.Run runs
// the bot under a lease in another bucket: one ingress of a bot is active,
// the others wait and take over when its lease expires (LeaseTTL, 5s by
// default); an ingress that cannot renew its lease stops (ErrLeaseLost).
// The active ingress answers the workers' send requests
// (<prefix>.rpc.<bot>.send, request/reply) with Bot.SendRelayed: its own
// connection, rate limit and loop guard, with the message the send answers.
//
// A worker runs a bot built with Worker.BotOption (bot.WithRelay): no
// connection to OpenIM, sends through the ingress. Workers announce
// themselves in a bucket with a TTL; partition p belongs to the (p mod n)-th
// of the n live workers sorted by ID, and a worker consumes a partition only
// while it holds the partition's lease. It hands the messages to the bot
// with Bot.Dispatch, in stream order, and acknowledges each once its handler
// returned. A partition moves once the messages handed out are handled and
// acknowledged; a worker that dies loses its leases, and the next holder
// recreates the partition's durable consumer from its acknowledged floor,
// so the messages the dead one had not acknowledged come again, in order.
// Fencing: a worker hands nothing over unless its lease was renewed within
// 3/4 of its TTL. At most 512 messages per partition are handed out and not
// acknowledged, which bounds the repeats a worker's death can cause.
//
// Dependencies: cluster imports bot, content, storage and transport; none
// of them imports cluster.
package cluster
