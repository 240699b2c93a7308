package cli

import (
	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/sandbox"
)

// receiveOptions returns the bot options of the receive mode the
// configuration chose (openim.receive, openim.fallback, openim.poll,
// webhook). wsURL is the gateway ("" when only the HTTP API is
// configured). With the embedded sandbox sb in webhook mode, the sandbox
// posts its callbacks to the bot's webhook listener.
func receiveOptions(cfg *config.Config, sb *sandbox.Server, wsURL string) []bot.Option {
	var opts []bot.Option
	if wsURL != "" {
		opts = append(opts, bot.WithGateway(wsURL))
	}
	o := cfg.OpenIM
	switch o.Receive {
	case config.ReceivePoll:
		return append(opts, bot.WithPoll(o.Poll.Interval, o.Poll.MaxInterval))
	case config.ReceiveWebhook:
		w := cfg.Webhook
		if sb != nil {
			sb.SetWebhook(sandbox.WebhookConfig{URL: "http://" + w.Listen + w.Path})
		}
		return append(opts, bot.WithWebhook(bot.WebhookOptions{Listen: w.Listen, Path: w.Path, Reconcile: w.Reconcile}))
	}
	if o.Fallback == config.ReceivePoll {
		opts = append(opts, bot.WithFallbackPoll(bot.FallbackOptions{
			After: o.FallbackAfter, Retry: o.FallbackRetry,
			Interval: o.Poll.Interval, MaxInterval: o.Poll.MaxInterval,
		}))
	}
	return opts
}
