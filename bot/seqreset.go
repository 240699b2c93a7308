package bot

import "fmt"

// SeqResetPolicy says what the sync engine does when a server's newest seq
// of a conversation is below the bot's watermark for it: the server's seqs
// went back (its storage was reset, a backup was restored, the bot's
// database came from another server). Whatever the policy, the bot
// reports it, once per detection, as a *SeqResetError to the OnError
// sink and as an error in the log. The zero value is SeqResetResync.
type SeqResetPolicy int

const (
	// SeqResetResync (the default) takes the server's seqs as the truth:
	// the conversation's watermark is set to the server's newest seq (0 for
	// a conversation the server has no messages in), so every message the
	// server stores from then on is handled. The messages the server held
	// at the detection are not handled: after a restored backup they were
	// handled before; after a wipe they arrived while the bot was away and
	// are skipped, as BacklogSkip would.
	SeqResetResync SeqResetPolicy = iota
	// SeqResetReplay sets the watermark to 0: every message the server
	// holds for the conversation is handled (pulled as offline messages),
	// then every new one. After a wipe nothing is skipped; after a restored
	// backup its messages are handled a second time.
	SeqResetReplay
	// SeqResetKeep keeps the watermark (the behaviour of a bot that does
	// not check): the server's messages up to the old watermark are dropped
	// as duplicates, and handling resumes only once the server's seqs pass
	// it. For a server known to come back with its seqs after a transient
	// fault.
	SeqResetKeep
)

// String returns "resync", "replay" or "keep".
func (p SeqResetPolicy) String() string {
	switch p {
	case SeqResetResync:
		return "resync"
	case SeqResetReplay:
		return "replay"
	case SeqResetKeep:
		return "keep"
	}
	return fmt.Sprintf("SeqResetPolicy(%d)", int(p))
}

// WithSeqReset sets what the bot does when a server's newest seq of a
// conversation is below its watermark; see SeqResetPolicy. Default
// SeqResetResync.
func WithSeqReset(p SeqResetPolicy) Option {
	return func(c *config) error {
		if p < SeqResetResync || p > SeqResetKeep {
			return optErr("WithSeqReset", "policy %d", int(p))
		}
		c.seqReset = p
		return nil
	}
}

// SeqResetError reports a conversation whose newest seq on the server
// (ServerSeq, 0 when the server lists no message in it) is below the bot's
// watermark: the server's seqs went back. Policy says what the bot did.
type SeqResetError struct {
	ConversationID string
	ServerSeq      int64
	Watermark      int64
	Policy         SeqResetPolicy
}

func (e *SeqResetError) Error() string {
	var did string
	switch e.Policy {
	case SeqResetResync:
		did = fmt.Sprintf("the watermark is set to the server's %d; messages up to it are not handled", e.ServerSeq)
	case SeqResetReplay:
		did = "the watermark is set to 0; the server's messages are handled again"
	default:
		did = "the watermark is kept; messages up to it are dropped"
	}
	return fmt.Sprintf("bot: conversation %s: the server's newest seq %d is below the watermark %d (server reset?); policy %s: %s",
		e.ConversationID, e.ServerSeq, e.Watermark, e.Policy, did)
}
