package content

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestEncodeGolden(t *testing.T) {
	received := &Message{
		ConversationID: "sg_3500123", SendID: "10001", GroupID: "3500123",
		ClientMsgID: "3f7e2c8a9b1d4e5f6a7b8c9d0e1f2a3b", ServerMsgID: "a1b2c3d4e5f60718293a4b5c6d7e8f90",
		SenderPlatformID: 2, SenderNickname: "Alice", SenderFaceURL: "https://example.com/a.png",
		SessionType: ReadGroupChat, MsgFrom: FromUser, ContentType: TypeText,
		Content: []byte(`{"content":"who is in for lunch?"}`), Seq: 42,
		SendTime: 1717000000123, CreateTime: 1717000000000, Status: StatusSent,
	}
	tests := []struct {
		name string
		e    Element
		want string
	}{
		{"text", NewText("hello"), `{"content":"hello"}`},
		{"text escapes", NewText("a \"b\"\n<c> & é \u2028"), `{"content":"a \"b\"\n<c> & é \u2028"}`},
		{"text invalid utf8", NewText("x\xffy"), `{"content":"x\ufffdy"}`},
		{"markdown", NewMarkdown("# T"), `{"content":"# T"}`},
		{"typing", NewTyping("yes"), `{"msgTips":"yes"}`},
		{"at-text", NewAtText("@10002 @AtAllTag hi", "10002", AtAllTag).SetNickname("10002", "Bob"),
			`{"text":"@10002 @AtAllTag hi","atUserList":["10002","AtAllTag"],"atUsersInfo":[{"atUserID":"10002","groupNickname":"Bob"},{"atUserID":"AtAllTag","groupNickname":"AtAllTag"}],"isAtSelf":false}`},
		{"quote", NewQuote("me!", received), `{"text":"me!","quoteMessage":` + quotedTextMsg + `}`},
		{"custom", NewCustom(`{"k":1}`, "d", "e"), `{"data":"{\"k\":1}","description":"d","extension":"e"}`},
		{"card", NewCard("10003", "Carol", "https://example.com/c.png"), `{"userID":"10003","nickname":"Carol","faceURL":"https://example.com/c.png","ex":""}`},
		{"location", NewLocation("Paris", 48.85837, 2.294481), `{"description":"Paris","longitude":2.294481,"latitude":48.85837}`},
		{"face", NewFace(3, ""), `{"index":3}`},
		{"picture", PictureByURL("https://cdn.example.com/img/cat.PNG?sig=1", 800, 600),
			`{"sourcePicture":{"uuid":"` + uuidOf("https://cdn.example.com/img/cat.PNG?sig=1") + `","type":"png","size":0,"width":800,"height":600,"url":"https://cdn.example.com/img/cat.PNG?sig=1"},` +
				`"bigPicture":{"uuid":"` + uuidOf("https://cdn.example.com/img/cat.PNG?sig=1") + `","type":"png","size":0,"width":800,"height":600,"url":"https://cdn.example.com/img/cat.PNG?sig=1"},` +
				`"snapshotPicture":{"uuid":"` + uuidOf("https://cdn.example.com/img/cat.PNG?sig=1") + `","type":"png","size":0,"width":800,"height":600,"url":"https://cdn.example.com/img/cat.PNG?sig=1"}}`},
		{"sound", SoundByURL("https://cdn.example.com/a.mp3", 12),
			`{"uuid":"` + uuidOf("https://cdn.example.com/a.mp3") + `","sourceUrl":"https://cdn.example.com/a.mp3","dataSize":0,"duration":12,"soundType":"mp3"}`},
		{"video", VideoByURL("https://cdn.example.com/v.mp4", "https://cdn.example.com/v.jpg", 30),
			`{"videoUUID":"` + uuidOf("https://cdn.example.com/v.mp4") + `","videoUrl":"https://cdn.example.com/v.mp4","videoType":"mp4","videoSize":0,"duration":30,` +
				`"snapshotUUID":"` + uuidOf("https://cdn.example.com/v.jpg") + `","snapshotSize":0,"snapshotUrl":"https://cdn.example.com/v.jpg","snapshotWidth":0,"snapshotHeight":0,"snapshotType":"jpg"}`},
		{"video without snapshot", VideoByURL("https://cdn.example.com/v", "", 1),
			`{"videoUUID":"` + uuidOf("https://cdn.example.com/v") + `","videoUrl":"https://cdn.example.com/v","videoSize":0,"duration":1,"snapshotSize":0,"snapshotWidth":0,"snapshotHeight":0}`},
		{"file", FileByURL("https://cdn.example.com/docs/Report%202024.pdf", "", 2048),
			`{"uuid":"` + uuidOf("https://cdn.example.com/docs/Report%202024.pdf") + `","sourceUrl":"https://cdn.example.com/docs/Report%202024.pdf","fileName":"Report 2024.pdf","fileSize":2048,"fileType":"pdf"}`},
		{"file named", FileByURL("https://cdn.example.com/", "x.bin", 1),
			`{"uuid":"` + uuidOf("https://cdn.example.com/") + `","sourceUrl":"https://cdn.example.com/","fileName":"x.bin","fileSize":1}`},
		{"notification", &Notification{Type: TypeGroupCreated, Detail: `{"a":1}`}, `{"detail":"{\"a\":1}"}`},
		{"unknown", &Unknown{Type: TypeSignalMsg, Raw: []byte("raw")}, `raw`},
		{"advanced text", &AdvancedText{Text: "t", MessageEntityList: []MessageEntity{{Type: "url", Offset: 0, Length: 1, URL: "u", Ex: "e"}}},
			`{"text":"t","messageEntityList":[{"type":"url","offset":0,"length":1,"url":"u","ex":"e"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Encode(tt.e)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("Encode =\n%s\nwant\n%s", got, tt.want)
			}
			if !json.Valid(got) && tt.name != "unknown" {
				t.Fatalf("invalid JSON %s", got)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, e := range []Element{
		nil, (*Text)(nil), (*Picture)(nil), (*Sound)(nil), (*Video)(nil), (*File)(nil), (*AtText)(nil),
		(*Merge)(nil), (*Card)(nil), (*Location)(nil), (*Custom)(nil), (*Typing)(nil), (*Quote)(nil),
		(*Face)(nil), (*AdvancedText)(nil), (*Markdown)(nil), (*Notification)(nil), (*Unknown)(nil),
		&Unknown{Type: 5}, NewQuote("x", nil), NewAtText("nobody"),
	} {
		if _, err := Encode(e); !errors.Is(err, ErrInvalidElement) {
			t.Errorf("Encode(%#v) err = %v, want ErrInvalidElement", e, err)
		}
		if m, err := NewMessage(e); !errors.Is(err, ErrInvalidElement) || m != nil {
			t.Errorf("NewMessage(%#v) = %v, %v", e, m, err)
		}
	}
}

// TestRoundTrip decodes realistic payloads, encodes them and decodes again:
// the elements must be equal and the second encoding identical.
func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		typ ContentType
		raw string
	}{
		{TypeText, `{"content":"hi <there> & \"you\""}`},
		{TypePicture, picturePayload},
		{TypeSound, soundPayload},
		{TypeVideo, videoPayload},
		{TypeFile, filePayload},
		{TypeAtText, atTextPayload},
		{TypeAtText, atQuotePayload},
		{TypeMerge, mergePayload},
		{TypeCard, cardPayload},
		{TypeLocation, locationPayload},
		{TypeCustom, customPayload},
		{TypeCustomOnlineOnly, customPayload},
		{TypeTyping, typingPayload},
		{TypeQuote, quotePayload},
		{TypeFace, facePayload},
		{TypeAdvancedText, advancedTextPayload},
		{TypeMarkdown, markdownPayload},
		{TypeGroupCreated, groupCreatedPayload},
		{TypeRevoke, `{"whatever":true}`},
	} {
		t.Run(tc.typ.String(), func(t *testing.T) {
			e1, err := Decode(tc.typ, []byte(tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			b1, err := Encode(e1)
			if err != nil {
				t.Fatal(err)
			}
			e2, err := Decode(tc.typ, b1)
			if err != nil {
				t.Fatalf("re-decode %s: %v", b1, err)
			}
			if !reflect.DeepEqual(e1, e2) {
				t.Fatalf("round trip changed the element:\n%#v\n%#v", e1, e2)
			}
			b2, _ := Encode(e2)
			if string(b1) != string(b2) {
				t.Fatalf("encoding not stable:\n%s\n%s", b1, b2)
			}
			if e2.ContentType() != tc.typ {
				t.Errorf("ContentType = %v", e2.ContentType())
			}
		})
	}
}

func TestNewMessage(t *testing.T) {
	m, err := NewMessage(NewAtText("@u1 @u2 hi", "u1", "u2"))
	if err != nil {
		t.Fatal(err)
	}
	if m.ContentType != TypeAtText || m.MsgFrom != FromUser || !reflect.DeepEqual(m.AtUserIDList, []string{"u1", "u2"}) {
		t.Fatalf("message = %+v", m)
	}
	e, err := Decode(m.ContentType, m.Content)
	if err != nil || !reflect.DeepEqual(e, m.Elem) {
		t.Fatalf("content does not decode back: %v %#v", err, e)
	}
	if !m.Mentions("u2") || m.Mentions("u3") || m.MentionsAll() {
		t.Error("Mentions wrong")
	}
	// AtUserIDList is a copy.
	m.AtUserIDList[0] = "zz"
	if m.Elem.(*AtText).AtUserList[0] != "u1" {
		t.Error("AtUserIDList aliases the element")
	}

	m, err = NewMessage(NewCustom("d", "", ""))
	if err != nil || m.ContentType != TypeCustom || string(m.Content) != `{"data":"d"}` || m.AtUserIDList != nil {
		t.Fatalf("custom message = %+v, %v", m, err)
	}
	c := NewCustom("d", "", "")
	c.Type = TypeCustomOnlineOnly
	if m, _ := NewMessage(c); m.ContentType != TypeCustomOnlineOnly {
		t.Fatalf("custom type = %v", m.ContentType)
	}
	if (&Custom{}).ContentType() != TypeCustom {
		t.Error("zero Custom is not 110")
	}
}

func TestSetNicknameUnknownUser(t *testing.T) {
	a := NewAtText("@x", "x").SetNickname("y", "Y")
	if a.AtUsersInfo[0].GroupNickname != "x" {
		t.Fatalf("got %+v", a.AtUsersInfo)
	}
}
