// Package bot is the openimbot runtime: it connects a bot account through
// transport, keeps it in sync by seq with durable watermarks in storage, and
// dispatches every message to a Handler on a worker pool that keeps each
// conversation in order.
package bot
