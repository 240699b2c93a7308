package content

import (
	"errors"
	"reflect"
	"testing"
)

func TestTextKinds(t *testing.T) {
	for _, tc := range []struct {
		e    Element
		want string
	}{
		{NewText("t"), "t"},
		{NewAtText("a", "u"), "a"},
		{&Quote{Text: "q"}, "q"},
		{NewMarkdown("m"), "m"},
		{&AdvancedText{Text: "adv"}, "adv"},
		{PictureByURL("u", 1, 1), ""},
		{SoundByURL("u", 1), ""},
		{VideoByURL("u", "", 1), ""},
		{FileByURL("u", "", 1), ""},
		{NewCustom("d", "", ""), ""},
		{&Notification{}, ""},
		{&Unknown{}, ""},
		{nil, ""},
	} {
		if got := (&Message{Elem: tc.e}).Text(); got != tc.want {
			t.Errorf("Text() of %T = %q, want %q", tc.e, got, tc.want)
		}
	}
}

func TestMentions(t *testing.T) {
	tests := []struct {
		name    string
		m       Message
		user    string
		want    bool
		wantAll bool
	}{
		{"listed", Message{AtUserIDList: []string{"a", "b"}}, "b", true, false},
		{"not listed", Message{AtUserIDList: []string{"a"}}, "b", false, false},
		{"all", Message{AtUserIDList: []string{AtAllTag}}, "b", true, true},
		{"empty user", Message{AtUserIDList: []string{AtAllTag}}, "", false, true},
		{"from element", Message{Elem: NewAtText("@b", "b")}, "b", true, false},
		{"list wins over element", Message{AtUserIDList: []string{"a"}, Elem: NewAtText("@b", "b")}, "b", false, false},
		{"element all", Message{Elem: NewAtText("@all", AtAllTag)}, "z", true, true},
		{"no mentions", Message{Elem: NewText("@b")}, "b", false, false},
	}
	for _, tt := range tests {
		if got := tt.m.Mentions(tt.user); got != tt.want {
			t.Errorf("%s: Mentions(%q) = %v", tt.name, tt.user, got)
		}
		if got := tt.m.MentionsAll(); got != tt.wantAll {
			t.Errorf("%s: MentionsAll() = %v", tt.name, got)
		}
	}
}

func receivedGroupText() *Message {
	m := &Message{
		ConversationID: "sg_3500123", SendID: "10001", GroupID: "3500123",
		ClientMsgID: "c1", ServerMsgID: "s1", SenderPlatformID: 2, SenderNickname: "Alice",
		SenderFaceURL: "f", SessionType: ReadGroupChat, MsgFrom: FromUser, ContentType: TypeText,
		Content: []byte(`{"content":"lunch?"}`), Seq: 42, SendTime: 1717000000123,
		CreateTime: 1717000000000, Status: StatusSent, AttachedInfo: "ai", Ex: "ex",
	}
	_ = m.DecodeContent()
	return m
}

func TestQuoteOfMessageRoundTrip(t *testing.T) {
	orig := receivedGroupText()
	reply, err := NewMessage(NewQuote("me!", orig))
	if err != nil {
		t.Fatal(err)
	}
	// What a recipient sees: decode the bytes afresh.
	in := &Message{ContentType: reply.ContentType, Content: reply.Content}
	if err := in.DecodeContent(); err != nil {
		t.Fatal(err)
	}
	if in.Text() != "me!" {
		t.Fatalf("Text = %q", in.Text())
	}
	got := in.Quoted()
	want := *orig
	if !reflect.DeepEqual(got, &want) {
		t.Fatalf("Quoted() =\n%+v\nwant\n%+v", got, &want)
	}
}

func TestQuotedStripsNestedQuote(t *testing.T) {
	first := receivedGroupText()
	second, _ := NewMessage(NewQuote("reply 1", first))
	second.SessionType, second.GroupID, second.SendID, second.Seq = ReadGroupChat, "3500123", "10002", 43
	third := NewQuote("reply 2", second)
	if third.QuoteMessage.QuoteElem == nil || third.QuoteMessage.QuoteElem.QuoteMessage != nil {
		t.Fatalf("nested quote kept: %+v", third.QuoteMessage.QuoteElem)
	}
	if second.Elem.(*Quote).QuoteMessage == nil {
		t.Fatal("NewQuote modified the quoted message's element")
	}
	at := NewAtText("@x", "x")
	at.QuoteMessage = NewQuotedMessage(first)
	q := NewQuotedMessage(&Message{ContentType: TypeAtText, Elem: at})
	if q.AtTextElem.QuoteMessage != nil || at.QuoteMessage == nil {
		t.Fatal("at-text quote not stripped, or original modified")
	}
}

func TestQuotedMessageAllKinds(t *testing.T) {
	elems := []Element{
		NewText("t"), NewCard("u", "n", "f"), PictureByURL("https://x/p.png", 1, 2), SoundByURL("https://x/s.mp3", 3),
		VideoByURL("https://x/v.mp4", "https://x/v.jpg", 4), FileByURL("https://x/f.zip", "", 5),
		&Merge{Title: "m", AbstractList: []string{"a"}}, NewFace(1, "d"), NewLocation("l", 1, 2),
		&Custom{Type: TypeCustomNotTriggerConversation, Data: "d"}, NewTyping("y"),
		&AdvancedText{Text: "a"}, NewMarkdown("md"), &Notification{Type: TypeMemberKicked, Detail: "{}"},
		NewAtText("@u", "u"), &Quote{Text: "q"},
	}
	for _, e := range elems {
		m, err := NewMessage(e)
		if err != nil {
			m = &Message{ContentType: e.ContentType(), Elem: e} // quote without target: still quotable
		}
		m.SessionType, m.SendID, m.RecvID = SingleChat, "b", "a"
		q := NewQuotedMessage(m)
		if got := q.Elem(); !reflect.DeepEqual(got, e) {
			t.Errorf("%T: Elem() = %#v", e, got)
		}
		back := q.Message()
		if back.ContentType != e.ContentType() || back.ConversationID != "si_a_b" {
			t.Errorf("%T: Message() = %+v", e, back)
		}
	}
}

func TestQuotedMessageElemFallbacks(t *testing.T) {
	var nilQ *QuotedMessage
	if _, ok := nilQ.Elem().(*Unknown); !ok || nilQ.Message() != nil {
		t.Fatal("nil QuotedMessage")
	}
	// Content string instead of an element object.
	q := &QuotedMessage{ContentType: TypeText, Content: `{"content":"from content"}`}
	if e := q.Elem(); !reflect.DeepEqual(e, NewText("from content")) {
		t.Fatalf("Elem = %#v", e)
	}
	if m := q.Message(); string(m.Content) != q.Content {
		t.Fatalf("Content = %s", m.Content)
	}
	// Element object that does not match contentType: first present wins.
	q = &QuotedMessage{ContentType: TypePicture, TextElem: NewText("x")}
	if e := q.Elem(); !reflect.DeepEqual(e, NewText("x")) {
		t.Fatalf("Elem = %#v", e)
	}
	// Nothing at all.
	q = &QuotedMessage{ContentType: TypeVideo}
	if e := q.Elem(); !reflect.DeepEqual(e, &Unknown{Type: TypeVideo}) {
		t.Fatalf("Elem = %#v", e)
	}
	// Unknown element kept as content; zero content type taken from the element.
	q = NewQuotedMessage(&Message{ContentType: TypeSignalMsg, Content: []byte("sig")})
	if q.Content != "sig" {
		t.Fatalf("Content = %q", q.Content)
	}
	q = NewQuotedMessage(&Message{Elem: NewText("z")})
	if q.ContentType != TypeText || q.TextElem.Content != "z" {
		t.Fatalf("q = %+v", q)
	}
	if NewQuotedMessage(nil) != nil {
		t.Fatal("NewQuotedMessage(nil) != nil")
	}
	if m := (&QuotedMessage{TextElem: NewText("k")}).Message(); m.ContentType != TypeText || string(m.Content) != `{"content":"k"}` {
		t.Fatalf("m = %+v", m)
	}
	// Notification in a quote gets its type from contentType, without
	// modifying the quoted object.
	n := &Notification{Detail: "{}"}
	q = &QuotedMessage{ContentType: TypeGroupMuted, NotificationElem: n}
	if e := q.Elem(); e.ContentType() != TypeGroupMuted || n.Type != 0 {
		t.Fatalf("notification Elem = %#v", e)
	}
}

func TestQuotedOfOtherKinds(t *testing.T) {
	if (&Message{Elem: NewText("x")}).Quoted() != nil {
		t.Fatal("text has no quote")
	}
	at := NewAtText("@u", "u")
	if (&Message{Elem: at}).Quoted() != nil {
		t.Fatal("at-text without quote")
	}
	at.QuoteMessage = NewQuotedMessage(receivedGroupText())
	if q := (&Message{Elem: at}).Quoted(); q == nil || q.Text() != "lunch?" {
		t.Fatalf("at-text quote = %+v", q)
	}
}

func TestDecodeContentSetsElem(t *testing.T) {
	m := &Message{ContentType: TypeText, Content: []byte("{")}
	err := m.DecodeContent()
	var de *DecodeError
	if !errors.As(err, &de) || m.Elem == nil {
		t.Fatalf("err=%v elem=%v", err, m.Elem)
	}
}
