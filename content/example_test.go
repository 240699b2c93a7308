package content_test

import (
	"fmt"

	"github.com/openimbot/openimbot/content"
)

func ExampleDecode() {
	raw := []byte(`{"text":"@10002 lunch?","atUserList":["10002"],"atUsersInfo":[{"atUserID":"10002","groupNickname":"Bob"}],"isAtSelf":false}`)
	e, err := content.Decode(content.TypeAtText, raw)
	if err != nil {
		fmt.Println(err)
		return
	}
	switch v := e.(type) {
	case *content.Text:
		fmt.Println("text:", v.Content)
	case *content.AtText:
		fmt.Println("mention of", v.AtUserList, "saying", v.Text)
	}
	// Output: mention of [10002] saying @10002 lunch?
}

func ExampleDecode_invalid() {
	e, err := content.Decode(content.TypeText, []byte(`{"content":`))
	fmt.Println(err)
	fmt.Printf("%T %s\n", e, e.(*content.Unknown).Raw)
	// Output:
	// content: decode Text (101): unexpected end of JSON input
	// *content.Unknown {"content":
}

func ExampleNotification_DecodeDetail() {
	e, _ := content.Decode(content.TypeMemberKicked, []byte(`{"detail":"{\"group\":{\"groupID\":\"g1\"},\"kickedUserList\":[{\"userID\":\"u9\"}]}"}`))
	n := e.(*content.Notification)
	var tips struct {
		Group struct {
			GroupID string `json:"groupID"`
		} `json:"group"`
		KickedUserList []struct {
			UserID string `json:"userID"`
		} `json:"kickedUserList"`
	}
	if err := n.DecodeDetail(&tips); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(n.Type, tips.Group.GroupID, tips.KickedUserList[0].UserID)
	// Output: MemberKickedNotification g1 u9
}

func ExampleMessage_Text() {
	m := &content.Message{ContentType: content.TypeQuote,
		Content: []byte(`{"text":"me too","quoteMessage":{"contentType":101,"seq":7,"sendID":"u1","textElem":{"content":"pizza?"}}}`)}
	_ = m.DecodeContent()
	fmt.Println(m.Text())
	fmt.Println(m.Quoted().Text())
	// Output:
	// me too
	// pizza?
}

func ExampleNewMessage() {
	m, err := content.NewMessage(content.NewAtText("@u2 build is green", "u2").SetNickname("u2", "Bob"))
	if err != nil {
		fmt.Println(err)
		return
	}
	m.SendID, m.GroupID, m.SessionType = "bot", "g1", content.GroupChat
	fmt.Println(m.ContentType, m.AtUserIDList)
	fmt.Println(string(m.Content))
	// Output:
	// AtText [u2]
	// {"text":"@u2 build is green","atUserList":["u2"],"atUsersInfo":[{"atUserID":"u2","groupNickname":"Bob"}],"isAtSelf":false}
}

func ExampleNewQuote() {
	received := &content.Message{SendID: "u1", GroupID: "g1", SessionType: content.GroupChat,
		ContentType: content.TypeText, Content: []byte(`{"content":"ping"}`), Seq: 12, Status: content.StatusSent}
	_ = received.DecodeContent()
	b, _ := content.Encode(content.NewQuote("pong", received))
	fmt.Println(string(b))
	// Output: {"text":"pong","quoteMessage":{"createTime":0,"sendTime":0,"sessionType":3,"sendID":"u1","msgFrom":0,"contentType":101,"senderPlatformID":0,"groupID":"g1","seq":12,"isRead":false,"status":2,"textElem":{"content":"ping"}}}
}

func ExamplePictureByURL() {
	p := content.PictureByURL("https://cdn.example.com/cat.png", 640, 480)
	fmt.Println(p.SnapshotPicture.URL, p.SnapshotPicture.Type, p.BigPicture.Width, len(p.SourcePicture.UUID))
	// Output: https://cdn.example.com/cat.png png 640 32
}

func ExampleSingleConversationID() {
	fmt.Println(content.SingleConversationID("u2", "u1"))
	fmt.Println(content.GroupConversationID("g1"))
	fmt.Println(content.NotificationStreamID("si_u1_u2"))
	ref, _ := content.ParseConversationID("si_u1_u2")
	fmt.Println(ref.Kind, ref.Peer("u1"))
	// Output:
	// si_u1_u2
	// sg_g1
	// n_u1_u2
	// single u2
}

func ExampleConversationIDOf() {
	m := &content.Message{SessionType: content.SingleChat, SendID: "u2", RecvID: "u1"}
	fmt.Println(content.ConversationIDOf(m))
	m.Options = map[string]bool{"isNotNotification": false}
	fmt.Println(content.ConversationIDOf(m))
	// Output:
	// si_u1_u2
	// n_u1_u2
}
