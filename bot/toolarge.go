package bot

import "fmt"

// MessageTooLargeError reports a message the bot skipped because it cannot
// be pulled: alone, it is over the 1 MiB a client reads in one websocket
// frame (a message sent through the REST API, or compressed by its
// sender; the gateway itself accepts at most 51,200 bytes from a client).
// The watermark moves past it, so the messages after it are handled; it is
// reported to the OnError sink and logged as an error.
type MessageTooLargeError struct {
	ConversationID string
	Seq            int64
}

func (e *MessageTooLargeError) Error() string {
	return fmt.Sprintf("bot: conversation %s seq %d: the message is over the 1 MiB read limit of a pull; skipped",
		e.ConversationID, e.Seq)
}
