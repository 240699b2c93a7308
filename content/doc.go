// Package content is the typed OpenIM message model: Message (MsgData with its
// decoded element), one struct per content kind under the sealed Element
// interface, the ContentType, SessionType, MsgFrom and Status enums, content
// JSON decoding and encoding, and conversation IDs.
//
// The package is pure: it depends on the standard library only and does no
// I/O. All functions are safe for concurrent use.
package content
