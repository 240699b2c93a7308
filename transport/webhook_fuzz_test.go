package transport

import (
	"errors"
	"testing"
)

// FuzzParseCallback: any body either parses into a callback with a
// conversation ID or fails with ErrInvalidCallback; it never panics.
func FuzzParseCallback(f *testing.F) {
	f.Add(CallbackAfterSendSingleMsg, []byte(`{"sendID":"alice","callbackCommand":"callbackAfterSendSingleMsgCommand","clientMsgID":"c1","sessionType":1,"contentType":101,"content":"{\"content\":\"hi\"}","recvID":"bot"}`))
	f.Add(CallbackAfterSendGroupMsg, []byte(`{"sendID":"alice","callbackCommand":"callbackAfterSendGroupMsgCommand","clientMsgID":"c2","sessionType":3,"contentType":101,"content":"x","groupID":"g1","atUserList":["bot"]}`))
	f.Add(CallbackAfterSendSingleMsg, []byte(`{"sendID":null}`))
	f.Add(CallbackAfterSendGroupMsg, []byte(`[]`))
	f.Add("callbackUserOnlineCommand", []byte(`{}`))
	f.Fuzz(func(t *testing.T, command string, body []byte) {
		cb, err := ParseCallback(command, body)
		if err != nil {
			if !errors.Is(err, ErrInvalidCallback) {
				t.Fatalf("error %v does not match ErrInvalidCallback", err)
			}
			return
		}
		if cb.Message.ConversationID == "" || cb.Message.SendID == "" || cb.Message.ClientMsgID == "" {
			t.Fatalf("accepted callback without IDs: %+v", cb)
		}
	})
}
