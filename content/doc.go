// Package content is the typed OpenIM message model: Message (MsgData with its
// decoded element), one struct per content kind under the sealed Element
// interface, the ContentType, SessionType, MsgFrom and Status enums, content
// JSON decoding and encoding, and conversation IDs.
//
// # Decoding
//
// Decode(contentType, content) turns the content JSON of a message into its
// element: *Text, *Picture, *Sound, *Video, *File, *AtText, *Merge, *Card,
// *Location, *Custom (110, 119, 120), *Typing, *Quote, *Face,
// *AdvancedText, *Markdown, *Notification (1000–5000) or *Unknown. Keys
// match case-insensitively and unknown keys are ignored. Content that does
// not decode is never dropped: it comes back as *Unknown with the raw bytes
// and a *DecodeError. Message.DecodeContent fills Message.Elem the same way.
//
// Group notifications (1501–1520) decode further into typed events:
// Message.GroupEvent and Notification.GroupEvent return a GroupEvent
// (*MemberKickedTips, *MemberInvitedTips, *MemberMutedTips, ...) with the
// group, the operator and the members concerned (GroupMember, with its
// RoleLevel). GroupNotice names the kinds a bot reacts to (MemberJoined,
// MemberKicked, RoleChanged, ...) with their content types.
//
// # Encoding
//
// Encode(element) produces content JSON with the keys official OpenIM
// clients (openim-sdk-core v3.8) write, so they render what a bot sends.
// Constructors build the elements a bot usually sends: NewText, NewAtText,
// NewQuote, NewMarkdown, NewCustom, PictureByURL, SoundByURL, VideoByURL,
// FileByURL, NewCard, NewLocation, NewFace. NewMessage wraps an element in an
// outgoing Message, including the at-user list of a mention.
//
// Quotes and merged messages carry whole messages in the SDK's client JSON
// (QuotedMessage); NewQuotedMessage and QuotedMessage.Message convert between
// that form and Message.
//
// # Conversation IDs
//
// SingleConversationID, GroupConversationID, NotificationConversationID,
// NotificationStreamID and ConversationIDOf build the IDs the server files
// messages under (si_, sg_, sn_, n_); ParseConversationID takes them apart.
//
// The package is pure: it depends on the standard library only, does no I/O
// and has no package-level mutable state. All functions are safe for
// concurrent use; Message and element values are plain data, safe to read
// from many goroutines while nobody writes them.
package content
