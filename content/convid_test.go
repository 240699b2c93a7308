package content

import (
	"errors"
	"testing"
)

func TestConversationIDBuilders(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{SingleConversationID("10002", "10001"), "si_10001_10002"},
		{SingleConversationID("10001", "10002"), "si_10001_10002"},
		{SingleConversationID("b", "B"), "si_B_b"}, // byte-wise order
		{SingleConversationID("9", "10"), "si_10_9"},
		{SingleConversationID("u", "u"), "si_u_u"},
		{GroupConversationID("3500123"), "sg_3500123"},
		{NotificationConversationID("z", "a"), "sn_a_z"},
		{NotificationStreamID("si_a_b"), "n_a_b"},
		{NotificationStreamID("sg_g1"), "n_g1"},
		{NotificationStreamID("sn_a_b"), "n_a_b"},
		{NotificationStreamID("n_a_b"), "n_a_b"},
		{NotificationStreamID("bare"), "n_bare"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestConversationIDOf(t *testing.T) {
	f := false
	tr := true
	opt := func(v *bool) map[string]bool {
		if v == nil {
			return map[string]bool{"history": false}
		}
		return map[string]bool{"isNotNotification": *v}
	}
	for _, tc := range []struct {
		m    Message
		want string
	}{
		{Message{SessionType: SingleChat, SendID: "b", RecvID: "a"}, "si_a_b"},
		{Message{SessionType: SingleChat, SendID: "a", RecvID: "b", Options: opt(nil)}, "si_a_b"},
		{Message{SessionType: SingleChat, SendID: "a", RecvID: "b", Options: opt(&tr)}, "si_a_b"},
		{Message{SessionType: SingleChat, SendID: "b", RecvID: "a", Options: opt(&f)}, "n_a_b"},
		{Message{SessionType: ReadGroupChat, GroupID: "g1", SendID: "x"}, "sg_g1"},
		{Message{SessionType: ReadGroupChat, GroupID: "g1", Options: opt(&f)}, "n_g1"},
		{Message{SessionType: WriteGroupChat, GroupID: "g1"}, "g_g1"},
		{Message{SessionType: NotificationChat, SendID: "oa", RecvID: "u1"}, "sn_oa_u1"},
		{Message{SessionType: 9, SendID: "a", RecvID: "b"}, ""},
	} {
		if got := ConversationIDOf(&tc.m); got != tc.want {
			t.Errorf("ConversationIDOf(%+v) = %q, want %q", tc.m, got, tc.want)
		}
	}
}

func TestParseConversationID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want ConversationRef
	}{
		{"si_10001_10002", ConversationRef{Kind: KindSingle, UserA: "10001", UserB: "10002"}},
		{"si_u_u", ConversationRef{Kind: KindSingle, UserA: "u", UserB: "u"}},
		{"si_a_b_c", ConversationRef{Kind: KindSingle, UserA: "a", UserB: "b_c"}},
		{"sg_3500123", ConversationRef{Kind: KindGroup, GroupID: "3500123"}},
		{"sg_team_x", ConversationRef{Kind: KindGroup, GroupID: "team_x"}},
		{"g_old", ConversationRef{Kind: KindWriteGroup, GroupID: "old"}},
		{"sn_oa_u1", ConversationRef{Kind: KindNotificationChat, UserA: "oa", UserB: "u1"}},
		{"n_a_b", ConversationRef{Kind: KindNotificationStream, UserA: "a", UserB: "b"}},
		{"n_g1", ConversationRef{Kind: KindNotificationStream, GroupID: "g1"}},
	} {
		got, err := ParseConversationID(tc.id)
		if err != nil || got != tc.want {
			t.Errorf("ParseConversationID(%q) = %+v, %v; want %+v", tc.id, got, err, tc.want)
		}
	}
	for _, id := range []string{"", "si", "si_", "si_a", "si_a_", "si__b", "sn_x", "sg_", "x_1", "SI_a_b", "n_"} {
		if r, err := ParseConversationID(id); !errors.Is(err, ErrBadConversationID) || r != (ConversationRef{}) {
			t.Errorf("ParseConversationID(%q) = %+v, %v; want ErrBadConversationID", id, r, err)
		}
	}
}

// TestConversationIDRoundTrip builds IDs and parses them back.
func TestConversationIDRoundTrip(t *testing.T) {
	r, _ := ParseConversationID(SingleConversationID("zed", "amy"))
	if r.Kind != KindSingle || r.Peer("zed") != "amy" || r.Peer("amy") != "zed" || r.Peer("bob") != "" {
		t.Fatalf("single: %+v", r)
	}
	r, _ = ParseConversationID(NotificationStreamID(GroupConversationID("g9")))
	if r.Kind != KindNotificationStream || r.GroupID != "g9" {
		t.Fatalf("stream: %+v", r)
	}
	r, _ = ParseConversationID(SingleConversationID("me", "me"))
	if r.Peer("me") != "me" {
		t.Fatalf("self: %+v", r)
	}
}

func TestConversationKind(t *testing.T) {
	for _, tc := range []struct {
		k    ConversationKind
		name string
		st   SessionType
	}{
		{KindUnknown, "unknown", 0},
		{KindSingle, "single", SingleChat},
		{KindGroup, "group", ReadGroupChat},
		{KindWriteGroup, "write-group", WriteGroupChat},
		{KindNotificationChat, "notification-chat", NotificationChat},
		{KindNotificationStream, "notification-stream", 0},
		{42, "ConversationKind(42)", 0},
	} {
		if tc.k.String() != tc.name || tc.k.SessionType() != tc.st {
			t.Errorf("%d: %q %v", int(tc.k), tc.k.String(), tc.k.SessionType())
		}
	}
}
