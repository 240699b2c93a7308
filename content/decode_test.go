package content

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Payloads as official OpenIM clients (openim-sdk-core v3.8) and the server
// write them.
const (
	picturePayload = `{"sourcePath":"/storage/emulated/0/DCIM/Camera/IMG_20240101_120000.jpg",` +
		`"sourcePicture":{"uuid":"4c9d1f0e6a7b4f0c8b1e2d3c4b5a6978.jpg","type":"image/jpeg","size":245760,"width":1080,"height":1920,"url":"https://s3.example.com/openim/data/hash/4c9d.jpg"},` +
		`"bigPicture":{"uuid":"4c9d1f0e6a7b4f0c8b1e2d3c4b5a6978.jpg","type":"image/jpeg","size":245760,"width":1080,"height":1920,"url":"https://s3.example.com/openim/data/hash/4c9d.jpg"},` +
		`"snapshotPicture":{"uuid":"4c9d1f0e6a7b4f0c8b1e2d3c4b5a6978.jpg","type":"image/jpeg","size":245760,"width":640,"height":1138,"url":"https://s3.example.com/openim/data/hash/4c9d.jpg?type=image&width=640&height=640"}}`
	soundPayload = `{"uuid":"8e2b5a1c.m4a","soundPath":"/data/user/0/io.openim.app/files/voice/8e2b5a1c.m4a",` +
		`"sourceUrl":"https://s3.example.com/openim/data/hash/8e2b.m4a","dataSize":18342,"duration":7,"soundType":"m4a"}`
	videoPayload = `{"videoPath":"/tmp/v.mp4","videoUUID":"b7f3.mp4","videoUrl":"https://s3.example.com/v.mp4","videoType":"video/mp4",` +
		`"videoSize":5242880,"duration":31,"snapshotPath":"/tmp/v.jpg","snapshotUUID":"b7f3.jpg","snapshotSize":40960,` +
		`"snapshotUrl":"https://s3.example.com/v.jpg","snapshotWidth":720,"snapshotHeight":1280,"snapshotType":"image/jpeg"}`
	filePayload = `{"filePath":"C:\\Users\\bob\\Documents\\report.pdf","uuid":"c1d2.pdf","sourceUrl":"https://s3.example.com/report.pdf",` +
		`"fileName":"report.pdf","fileSize":1048576,"fileType":"pdf"}`
	atTextPayload = `{"text":"@10002 @AtAllTag meeting at 3pm","atUserList":["10002","AtAllTag"],` +
		`"atUsersInfo":[{"atUserID":"10002","groupNickname":"Bob"},{"atUserID":"AtAllTag","groupNickname":"Everyone"}],"isAtSelf":false}`
	quotedTextMsg = `{"clientMsgID":"3f7e2c8a9b1d4e5f6a7b8c9d0e1f2a3b","serverMsgID":"a1b2c3d4e5f60718293a4b5c6d7e8f90",` +
		`"createTime":1717000000000,"sendTime":1717000000123,"sessionType":3,"sendID":"10001","msgFrom":100,"contentType":101,` +
		`"senderPlatformID":2,"senderNickname":"Alice","senderFaceUrl":"https://example.com/a.png","groupID":"3500123",` +
		`"seq":42,"isRead":false,"status":2,"textElem":{"content":"who is in for lunch?"}}`
	quotePayload   = `{"text":"me!","quoteMessage":` + quotedTextMsg + `}`
	atQuotePayload = `{"text":"@10001 sure","atUserList":["10001"],"atUsersInfo":[{"atUserID":"10001","groupNickname":"Alice"}],` +
		`"quoteMessage":` + quotedTextMsg + `,"isAtSelf":true}`
	mergePayload = `{"title":"Chat history of Alice and Bob","abstractList":["Alice: hi","Bob: [Picture]"],"multiMessage":[` +
		`{"clientMsgID":"m1","createTime":1,"sendTime":2,"sessionType":1,"sendID":"a","recvID":"b","msgFrom":100,"contentType":101,"senderPlatformID":1,"seq":1,"isRead":true,"status":2,"textElem":{"content":"hi"}},` +
		`{"clientMsgID":"m2","createTime":3,"sendTime":4,"sessionType":1,"sendID":"b","recvID":"a","msgFrom":100,"contentType":102,"senderPlatformID":2,"seq":2,"isRead":true,"status":2,"pictureElem":{"sourcePicture":{"uuid":"u","type":"png","size":10,"width":1,"height":1,"url":"https://x/p.png"}}}]}`
	cardPayload         = `{"userID":"10003","nickname":"Carol","faceURL":"https://example.com/c.png","ex":""}`
	locationPayload     = `{"description":"{\"name\":\"Eiffel Tower\",\"addr\":\"Champ de Mars, Paris\"}","longitude":2.294481,"latitude":48.85837}`
	customPayload       = `{"data":"{\"customType\":905,\"data\":{\"orderID\":\"A-1\"}}","description":"order","extension":"v1"}`
	typingPayload       = `{"msgTips":"yes"}`
	facePayload         = `{"index":-1,"data":"{\"url\":\"https://example.com/s.gif\",\"width\":120,\"height\":120}"}`
	advancedTextPayload = `{"text":"see https://openim.io now","messageEntityList":[{"type":"url","offset":4,"length":17,"url":"https://openim.io"}]}`
	markdownPayload     = `{"Content":"# Build\n- **ok**"}`
	groupCreatedPayload = `{"detail":"{\"group\":{\"groupID\":\"3500123\",\"groupName\":\"Lunch\"},\"opUser\":{\"userID\":\"10001\",\"nickname\":\"Alice\"},\"memberList\":[{\"userID\":\"10002\"}]}"}`
)

func quotedText() *QuotedMessage {
	return &QuotedMessage{
		ClientMsgID: "3f7e2c8a9b1d4e5f6a7b8c9d0e1f2a3b", ServerMsgID: "a1b2c3d4e5f60718293a4b5c6d7e8f90",
		CreateTime: 1717000000000, SendTime: 1717000000123, SessionType: ReadGroupChat, SendID: "10001",
		MsgFrom: FromUser, ContentType: TypeText, SenderPlatformID: 2, SenderNickname: "Alice",
		SenderFaceURL: "https://example.com/a.png", GroupID: "3500123", Seq: 42, Status: StatusSent,
		TextElem: &Text{Content: "who is in for lunch?"},
	}
}

func TestDecodeKinds(t *testing.T) {
	pic := PictureInfo{UUID: "4c9d1f0e6a7b4f0c8b1e2d3c4b5a6978.jpg", Type: "image/jpeg", Size: 245760, Width: 1080, Height: 1920, URL: "https://s3.example.com/openim/data/hash/4c9d.jpg"}
	snap := pic
	snap.Width, snap.Height, snap.URL = 640, 1138, pic.URL+"?type=image&width=640&height=640"
	tests := []struct {
		name     string
		typ      ContentType
		raw      string
		want     Element
		wantText string
	}{
		{"text", TypeText, `{"content":"hello"}`, &Text{Content: "hello"}, "hello"},
		{"text escaped", TypeText, `{"content":"line1\nline2 \"q\" \u00e9"}`, &Text{Content: "line1\nline2 \"q\" é"}, "line1\nline2 \"q\" é"},
		{"text unicode", TypeText, `{"content":"你好 👋"}`, &Text{Content: "你好 👋"}, "你好 👋"},
		{"text extra keys and spaces", TypeText, `{ "content" : "hi", "ex": {"a":1} }`, &Text{Content: "hi"}, "hi"},
		{"text key case", TypeText, `{"CONTENT":"hi"}`, &Text{Content: "hi"}, "hi"},
		{"picture", TypePicture, picturePayload, &Picture{
			SourcePath:    "/storage/emulated/0/DCIM/Camera/IMG_20240101_120000.jpg",
			SourcePicture: pic, BigPicture: pic, SnapshotPicture: snap,
		}, ""},
		{"sound", TypeSound, soundPayload, &Sound{
			UUID: "8e2b5a1c.m4a", SoundPath: "/data/user/0/io.openim.app/files/voice/8e2b5a1c.m4a",
			SourceURL: "https://s3.example.com/openim/data/hash/8e2b.m4a", DataSize: 18342, Duration: 7, SoundType: "m4a",
		}, ""},
		{"video", TypeVideo, videoPayload, &Video{
			VideoPath: "/tmp/v.mp4", VideoUUID: "b7f3.mp4", VideoURL: "https://s3.example.com/v.mp4", VideoType: "video/mp4",
			VideoSize: 5242880, Duration: 31, SnapshotPath: "/tmp/v.jpg", SnapshotUUID: "b7f3.jpg", SnapshotSize: 40960,
			SnapshotURL: "https://s3.example.com/v.jpg", SnapshotWidth: 720, SnapshotHeight: 1280, SnapshotType: "image/jpeg",
		}, ""},
		{"file", TypeFile, filePayload, &File{
			FilePath: `C:\Users\bob\Documents\report.pdf`, UUID: "c1d2.pdf", SourceURL: "https://s3.example.com/report.pdf",
			FileName: "report.pdf", FileSize: 1048576, FileType: "pdf",
		}, ""},
		{"at-text", TypeAtText, atTextPayload, &AtText{
			Text:        "@10002 @AtAllTag meeting at 3pm",
			AtUserList:  []string{"10002", AtAllTag},
			AtUsersInfo: []AtInfo{{AtUserID: "10002", GroupNickname: "Bob"}, {AtUserID: AtAllTag, GroupNickname: "Everyone"}},
		}, "@10002 @AtAllTag meeting at 3pm"},
		{"at-text with quote", TypeAtText, atQuotePayload, &AtText{
			Text: "@10001 sure", AtUserList: []string{"10001"},
			AtUsersInfo:  []AtInfo{{AtUserID: "10001", GroupNickname: "Alice"}},
			QuoteMessage: quotedText(), IsAtSelf: true,
		}, "@10001 sure"},
		{"merge", TypeMerge, mergePayload, &Merge{
			Title: "Chat history of Alice and Bob", AbstractList: []string{"Alice: hi", "Bob: [Picture]"},
			MultiMessage: []*QuotedMessage{
				{ClientMsgID: "m1", CreateTime: 1, SendTime: 2, SessionType: SingleChat, SendID: "a", RecvID: "b", MsgFrom: FromUser,
					ContentType: TypeText, SenderPlatformID: 1, Seq: 1, IsRead: true, Status: StatusSent, TextElem: &Text{Content: "hi"}},
				{ClientMsgID: "m2", CreateTime: 3, SendTime: 4, SessionType: SingleChat, SendID: "b", RecvID: "a", MsgFrom: FromUser,
					ContentType: TypePicture, SenderPlatformID: 2, Seq: 2, IsRead: true, Status: StatusSent,
					PictureElem: &Picture{SourcePicture: PictureInfo{UUID: "u", Type: "png", Size: 10, Width: 1, Height: 1, URL: "https://x/p.png"}}},
			},
		}, ""},
		{"card", TypeCard, cardPayload, &Card{UserID: "10003", Nickname: "Carol", FaceURL: "https://example.com/c.png"}, ""},
		{"location", TypeLocation, locationPayload, &Location{
			Description: `{"name":"Eiffel Tower","addr":"Champ de Mars, Paris"}`, Longitude: 2.294481, Latitude: 48.85837,
		}, ""},
		{"custom", TypeCustom, customPayload, &Custom{Type: TypeCustom,
			Data: `{"customType":905,"data":{"orderID":"A-1"}}`, Description: "order", Extension: "v1"}, ""},
		{"custom not trigger conversation", TypeCustomNotTriggerConversation, `{"data":"x"}`,
			&Custom{Type: TypeCustomNotTriggerConversation, Data: "x"}, ""},
		{"custom online only", TypeCustomOnlineOnly, `{"data":"x"}`, &Custom{Type: TypeCustomOnlineOnly, Data: "x"}, ""},
		{"typing", TypeTyping, typingPayload, &Typing{MsgTips: "yes"}, ""},
		{"quote", TypeQuote, quotePayload, &Quote{Text: "me!", QuoteMessage: quotedText()}, "me!"},
		{"face", TypeFace, facePayload, &Face{Index: -1, Data: `{"url":"https://example.com/s.gif","width":120,"height":120}`}, ""},
		{"advanced text", TypeAdvancedText, advancedTextPayload, &AdvancedText{
			Text:              "see https://openim.io now",
			MessageEntityList: []MessageEntity{{Type: "url", Offset: 4, Length: 17, URL: "https://openim.io"}},
		}, "see https://openim.io now"},
		{"markdown capital key", TypeMarkdown, markdownPayload, &Markdown{Content: "# Build\n- **ok**"}, "# Build\n- **ok**"},
		{"group created", TypeGroupCreated, groupCreatedPayload, &Notification{Type: TypeGroupCreated,
			Detail: `{"group":{"groupID":"3500123","groupName":"Lunch"},"opUser":{"userID":"10001","nickname":"Alice"},"memberList":[{"userID":"10002"}]}`}, ""},
		{"unnamed notification", 4999, `{"detail":"{}"}`, &Notification{Type: 4999, Detail: "{}"}, ""},
		{"revoke legacy", TypeRevoke, `{"clientMsgID":"x"}`, &Unknown{Type: TypeRevoke, Raw: []byte(`{"clientMsgID":"x"}`)}, ""},
		{"signal", TypeSignalMsg, `binary?`, &Unknown{Type: TypeSignalMsg, Raw: []byte(`binary?`)}, ""},
		{"deleted placeholder", 0, ``, &Unknown{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.typ, []byte(tt.raw))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Decode =\n%#v\nwant\n%#v", got, tt.want)
			}
			if got.ContentType() != tt.typ {
				t.Errorf("ContentType() = %v, want %v", got.ContentType(), tt.typ)
			}
			m := &Message{ContentType: tt.typ, Content: []byte(tt.raw)}
			if err := m.DecodeContent(); err != nil {
				t.Fatal(err)
			}
			if s := m.Text(); s != tt.wantText {
				t.Errorf("Text() = %q, want %q", s, tt.wantText)
			}
		})
	}
}

func TestDecodeInvalid(t *testing.T) {
	tests := []struct {
		typ ContentType
		raw string
	}{
		{TypeText, `{"content":`},
		{TypeText, `{"content":5}`},
		{TypeText, ``},
		{TypeText, `{"content":"a"} trailing`},
		{TypePicture, `{"sourcePicture":{"width":"wide"}}`},
		{TypeSound, `[`},
		{TypeVideo, `{"duration":"long"}`},
		{TypeFile, `{"fileSize":1.5}`},
		{TypeAtText, `{"atUserList":"bob"}`},
		{TypeMerge, `{"multiMessage":{}}`},
		{TypeCard, `nope`},
		{TypeLocation, `{"latitude":"north"}`},
		{TypeCustom, `{"data":{"a":1}}`},
		{TypeTyping, `{"msgTips":1}`},
		{TypeQuote, `{"quoteMessage":{"seq":"x"}}`},
		{TypeFace, `{"index":99999999999999999999}`},
		{TypeAdvancedText, `{"messageEntityList":[{"offset":"0"}]}`},
		{TypeMarkdown, `"# title"`},
		{TypeGroupCreated, `{"detail":{"group":{}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.typ.String(), func(t *testing.T) {
			got, err := Decode(tt.typ, []byte(tt.raw))
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want *DecodeError", err)
			}
			if de.Type != tt.typ || de.Unwrap() == nil {
				t.Errorf("DecodeError = %+v", de)
			}
			if !strings.HasPrefix(err.Error(), "content: decode "+tt.typ.String()) {
				t.Errorf("error text %q does not name the type", err)
			}
			u, ok := got.(*Unknown)
			if !ok {
				t.Fatalf("element = %T, want *Unknown", got)
			}
			if u.Type != tt.typ || string(u.Raw) != tt.raw {
				t.Errorf("Unknown = %v %q", u.Type, u.Raw)
			}
		})
	}
}

func TestDecodeCopiesRaw(t *testing.T) {
	raw := []byte(`{"x":1}`)
	e, _ := Decode(TypeRevoke, raw)
	raw[0] = 'X'
	if got := string(e.(*Unknown).Raw); got != `{"x":1}` {
		t.Fatalf("Unknown.Raw aliases the input: %q", got)
	}
	e, _ = Decode(TypeText, raw) // now invalid
	if _, ok := e.(*Unknown); !ok {
		t.Fatalf("got %T", e)
	}
	if e, err := Decode(TypeRevoke, nil); err != nil || e.(*Unknown).Raw != nil {
		t.Fatalf("nil raw: %v %v", e, err)
	}
}

// TestFastTextMatchesJSON checks the text fast path against encoding/json.
func TestFastTextMatchesJSON(t *testing.T) {
	for _, raw := range []string{
		`{"content":"hello"}`, `{"content":""}`, `{"content":"héllo wörld"}`, `{"content":"a\"b"}`,
		`{"content":"a\\b"}`, "{\"content\":\"tab\there\"}", "{\"content\":\"bad \xff utf8\"}",
		`{"content":"x"}  `, `{"content":"<b>&amp;</b>"}`, `{"content":"}"}`, `{"content":"`,
	} {
		s, fast := fastText([]byte(raw))
		var want Text
		err := json.Unmarshal([]byte(raw), &want)
		if fast && (err != nil || s != want.Content) {
			t.Errorf("fastText(%q) = %q, encoding/json gives %q, %v", raw, s, want.Content, err)
		}
		got, derr := Decode(TypeText, []byte(raw))
		if (derr == nil) != (err == nil) {
			t.Errorf("Decode(%q) err %v, encoding/json err %v", raw, derr, err)
		}
		if err == nil && got.(*Text).Content != want.Content {
			t.Errorf("Decode(%q) = %q, want %q", raw, got.(*Text).Content, want.Content)
		}
	}
	if _, fast := fastText([]byte(`{"content":"plain"}`)); !fast {
		t.Error("fast path not taken for plain text")
	}
}

func TestNotificationDecodeDetail(t *testing.T) {
	e, err := Decode(TypeGroupCreated, []byte(groupCreatedPayload))
	if err != nil {
		t.Fatal(err)
	}
	n := e.(*Notification)
	var tips struct {
		Group struct {
			GroupID   string `json:"groupID"`
			GroupName string `json:"groupName"`
		} `json:"group"`
		OpUser struct{ UserID string } `json:"opUser"`
	}
	if err := n.DecodeDetail(&tips); err != nil {
		t.Fatal(err)
	}
	if tips.Group.GroupID != "3500123" || tips.Group.GroupName != "Lunch" || tips.OpUser.UserID != "10001" {
		t.Fatalf("tips = %+v", tips)
	}
	bad := &Notification{Type: TypeMemberKicked, Detail: "{"}
	err = bad.DecodeDetail(&tips)
	var de *DecodeError
	if !errors.As(err, &de) || de.Field != "detail" || de.Type != TypeMemberKicked {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "MemberKickedNotification (1508) detail") {
		t.Errorf("error text %q", err)
	}
}

func TestDecodeErrorUnnamedType(t *testing.T) {
	err := (&DecodeError{Type: 7, Err: errors.New("boom")}).Error()
	if err != "content: decode 7: boom" {
		t.Fatalf("got %q", err)
	}
}

func TestSpecial8(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c < 0x20 || c == '"' || c == '\\' || c >= 0x80
		for pos := 0; pos < 8; pos++ {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			if got := special8(binary.LittleEndian.Uint64(w)); got != want {
				t.Fatalf("byte %#x at %d: special8 = %v", c, pos, got)
			}
		}
	}
	if special8(binary.LittleEndian.Uint64([]byte("~ !#[]{}"))) {
		t.Fatal("plain ASCII flagged")
	}
}
