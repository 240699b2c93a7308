package bot

import "github.com/openimbot/openimbot/content"

// warnUndecodable logs a message whose content did not decode as its
// content type says (handlers get it as *content.Unknown): a sender's bug or
// a newer client format, worth seeing rather than silently dropping.
func (b *Bot) warnUndecodable(m *content.Message) {
	if u, ok := m.Elem.(*content.Unknown); ok && u.Err != nil {
		b.log.Warn("bot: message content does not decode; handlers get it as *content.Unknown",
			"conversation", m.ConversationID, "seq", m.Seq, "contentType", int32(m.ContentType), "err", u.Err)
	}
}
