package content

import (
	"strings"
	"testing"
)

func TestContentTypeNames(t *testing.T) {
	seen := map[string]ContentType{}
	known := KnownContentTypes()
	for i, ct := range known {
		name := ct.String()
		if strings.HasPrefix(name, "ContentType(") {
			t.Errorf("%d has no name", int32(ct))
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("%d and %d share the name %q", prev, ct, name)
		}
		seen[name] = ct
		if i > 0 && known[i-1] >= ct {
			t.Errorf("KnownContentTypes not ascending at %d", ct)
		}
		if got, ok := ParseContentType(name); !ok || got != ct {
			t.Errorf("ParseContentType(%q) = %v, %v", name, got, ok)
		}
		if got, ok := ParseContentType(strings.ToLower(name)); !ok || got != ct {
			t.Errorf("ParseContentType(lower %q) = %v, %v", name, got, ok)
		}
		if wantNotif := int32(ct) >= 1000 && int32(ct) <= 5000; ct.IsNotification() != wantNotif {
			t.Errorf("%v.IsNotification() = %v", ct, !wantNotif)
		}
	}
	if len(known) < 70 {
		t.Errorf("only %d known content types", len(known))
	}
	for _, tc := range []struct {
		ct   ContentType
		name string
	}{
		{TypeText, "Text"}, {TypeSound, "Voice"}, {TypeMerge, "Merger"}, {TypeMarkdown, "MarkdownText"},
		{TypeUserSubscribeOnlineStatus, "UserSubscribeOnlineStatusNotification"},
		{TypeGroupMemberSetToOrdinary, "GroupMemberSetToOrdinaryUserNotification"},
		{TypeHasReadReceipt, "HasReadReceipt"}, {999, "ContentType(999)"}, {-1, "ContentType(-1)"},
	} {
		if got := tc.ct.String(); got != tc.name {
			t.Errorf("%d.String() = %q, want %q", int32(tc.ct), got, tc.name)
		}
	}
}

func TestParseContentTypeAliases(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ContentType
		ok   bool
	}{
		{"sound", TypeSound, true}, {"VOICE", TypeSound, true}, {"merge", TypeMerge, true},
		{"markdown", TypeMarkdown, true}, {" text ", TypeText, true}, {"101", TypeText, true},
		{"1501", TypeGroupCreated, true}, {"GroupCreated", TypeGroupCreated, true},
		{"custom", TypeCustom, true}, {"CustomNotification", TypeCustomNotification, true},
		{"OA", TypeOANotification, true}, {"business", TypeBusinessNotification, true},
		{"", 0, false}, {"notification", 0, false}, {"emoji", 0, false}, {"99999999999", 0, false},
	} {
		got, ok := ParseContentType(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseContentType(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestEnumStrings(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{SingleChat.String(), "SingleChat"}, {WriteGroupChat.String(), "WriteGroupChat"},
		{GroupChat.String(), "ReadGroupChat"}, {NotificationChat.String(), "NotificationChat"},
		{SessionType(7).String(), "SessionType(7)"},
		{FromUser.String(), "User"}, {FromSystem.String(), "System"}, {MsgFrom(1).String(), "MsgFrom(1)"},
		{StatusSending.String(), "Sending"}, {StatusSent.String(), "Sent"}, {StatusFailed.String(), "Failed"},
		{StatusDeleted.String(), "Deleted"}, {StatusFiltered.String(), "Filtered"}, {Status(0).String(), "Status(0)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if !GroupChat.IsGroup() || !WriteGroupChat.IsGroup() || SingleChat.IsGroup() {
		t.Error("IsGroup")
	}
}
