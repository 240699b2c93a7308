// Package ratelimit is the plugin that limits how often one user (or one
// conversation) can make the bot run a handler: a token bucket per key, as
// router middleware in front of every route.
//
// Its configuration section takes:
//
//	rate: 5          # messages allowed per period (default 5)
//	per: 1m          # the period (default 1m); the bucket refills evenly
//	burst: 5         # bucket size (default rate)
//	scope: sender    # sender (default) or conversation
//	message: "..."   # replied once when a key starts being limited (default none)
//
// A limited message is dropped: no handler runs for it. The plugin is safe
// for concurrent use; its memory is bounded by pruning full buckets.
package ratelimit
