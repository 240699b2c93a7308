package bot_test

import (
	"testing"

	"github.com/openimbot/openimbot/bot"
)

// With gzip, a message that inflates past the 1 MiB a client inflates one
// frame to (however small its compressed frame) is over the read limit as
// well: it is skipped and reported like one over the limit without gzip,
// and every other message is handled in order, without a reconnect loop.
func TestCatchupGzipAnswerInflatesOverLimit(t *testing.T) {
	overLimitCatchup{n: 30, hugeAt: 11, pad: 1000, limit: "inflate limit",
		opts: []bot.Option{bot.WithCompression(true)}}.check(t)
}
