package content

import (
	"errors"
	"testing"
)

// Details as OpenIM v3.8.3 writes them (jsonutil of the sdkws tips, with
// keys the structs here do not have).
var groupDetails = map[ContentType]string{
	TypeMemberKicked: `{"group":{"groupID":"g1","groupName":"Team","ownerUserID":"o","memberCount":3,"status":0,"notificationUpdateTime":0},` +
		`"opUser":{"groupID":"g1","userID":"o","roleLevel":100,"nickname":"Olga"},` +
		`"kickedUserList":[{"groupID":"g1","userID":"b","roleLevel":20,"nickname":"Bob"}],"operationTime":1700000000000,"groupMemberVersion":7,"groupMemberVersionID":"v"}`,
	TypeMemberInvited:            `{"group":{"groupID":"g1"},"opUser":{"userID":"o"},"invitedUserList":[{"userID":"c","nickname":"Cy"},{"userID":"d"}],"inviterUser":{"userID":"o"}}`,
	TypeMemberEnter:              `{"group":{"groupID":"g1"},"entrantUser":{"userID":"e","nickname":"Eve"}}`,
	TypeGroupMemberMuted:         `{"group":{"groupID":"g1"},"opUser":{"userID":"o"},"mutedUser":{"userID":"b","muteEndTime":1700000600000},"mutedSeconds":600}`,
	TypeGroupMemberCancelMuted:   `{"group":{"groupID":"g1"},"opUser":{"userID":"o"},"mutedUser":{"userID":"b"}}`,
	TypeGroupMemberSetToAdmin:    `{"group":{"groupID":"g1"},"opUser":{"userID":"o"},"changedUser":{"userID":"b","roleLevel":60},"groupSortVersion":3}`,
	TypeGroupMemberSetToOrdinary: `{"group":{"groupID":"g1"},"changedUser":{"userID":"b","roleLevel":20}}`,
	TypeGroupMemberInfoSet:       `{"group":{"groupID":"g1"},"changedUser":{"userID":"b","nickname":"B"}}`,
	TypeMemberQuit:               `{"group":{"groupID":"g1"},"quitUser":{"userID":"q"}}`,
	TypeGroupCreated:             `{"group":{"groupID":"g1"},"opUser":{"userID":"o"},"memberList":[{"userID":"o"},{"userID":"b"}],"groupOwnerUser":{"userID":"o"}}`,
	TypeGroupDismissed:           `{"group":{"groupID":"g1","status":2},"opUser":{"userID":"o"}}`,
	TypeGroupOwnerTransferred:    `{"group":{"groupID":"g1"},"opUser":{"userID":"o"},"newGroupOwner":{"userID":"b","roleLevel":100},"oldGroupOwner":"o","oldGroupOwnerInfo":{"userID":"o","roleLevel":20}}`,
	TypeGroupInfoSetName:         `{"group":{"groupID":"g1","groupName":"New"},"opUser":{"userID":"o"}}`,
}

func TestGroupEvents(t *testing.T) {
	want := map[ContentType]struct {
		notice  GroupNotice
		members []string
	}{
		TypeMemberKicked:             {MemberKicked, []string{"b"}},
		TypeMemberInvited:            {MemberInvited, []string{"c", "d"}},
		TypeMemberEnter:              {MemberJoined, []string{"e"}},
		TypeGroupMemberMuted:         {MemberMuted, []string{"b"}},
		TypeGroupMemberCancelMuted:   {MemberUnmuted, []string{"b"}},
		TypeGroupMemberSetToAdmin:    {RoleChanged, []string{"b"}},
		TypeGroupMemberSetToOrdinary: {RoleChanged, []string{"b"}},
		TypeGroupMemberInfoSet:       {MemberInfoChanged, []string{"b"}},
		TypeMemberQuit:               {MemberQuit, []string{"q"}},
		TypeGroupCreated:             {GroupCreated, []string{"o", "b"}},
		TypeGroupDismissed:           {GroupDismissed, nil},
		TypeGroupOwnerTransferred:    {OwnerTransferred, []string{"b", "o"}},
		TypeGroupInfoSetName:         {GroupInfoChanged, nil},
	}
	for ct, detail := range groupDetails {
		m := &Message{ContentType: ct, Elem: &Notification{Type: ct, Detail: detail}}
		ev := m.GroupEvent()
		if ev == nil {
			t.Errorf("%d: no event", ct)
			continue
		}
		w := want[ct]
		var ids []string
		for _, u := range ev.Members() {
			ids = append(ids, u.UserID)
		}
		if ev.Notice() != w.notice || ev.GroupInfo().GroupID != "g1" || len(ids) != len(w.members) {
			t.Errorf("%d: %v %+v members %v, want %v %v", ct, ev.Notice(), ev.GroupInfo(), ids, w.notice, w.members)
			continue
		}
		for i := range ids {
			if ids[i] != w.members[i] {
				t.Errorf("%d: members %v, want %v", ct, ids, w.members)
			}
		}
		found := false
		for _, c := range w.notice.ContentTypes() {
			found = found || c == ct
		}
		if !found {
			t.Errorf("%v.ContentTypes() lacks %d", w.notice, ct)
		}
	}
	k := (&Message{Elem: &Notification{Type: TypeMemberKicked, Detail: groupDetails[TypeMemberKicked]}}).GroupEvent().(*MemberKickedTips)
	if k.OpUser.RoleLevel != RoleOwner || k.KickedUserList[0].Nickname != "Bob" || k.Group.MemberCount != 3 || k.Operator().UserID != "o" {
		t.Errorf("kicked tips %+v", k)
	}
	mu := (&Message{Elem: &Notification{Type: TypeGroupMemberMuted, Detail: groupDetails[TypeGroupMemberMuted]}}).GroupEvent().(*MemberMutedTips)
	if mu.MutedSeconds != 600 || mu.MutedUser.MuteEndTime != 1700000600000 {
		t.Errorf("muted tips %+v", mu)
	}
}

func TestGroupEventErrors(t *testing.T) {
	// Types without a struct here give nil and no error.
	for _, ct := range []ContentType{TypeJoinGroupApplication, TypeGroupMuted, 1201, TypeMsgRevokeNotification} {
		if ev, err := (&Notification{Type: ct, Detail: "{}"}).GroupEvent(); ev != nil || err != nil {
			t.Errorf("%d: %v %v", ct, ev, err)
		}
	}
	_, err := (&Notification{Type: TypeMemberKicked, Detail: `{"kickedUserList":"x"}`}).GroupEvent()
	var de *DecodeError
	if !errors.As(err, &de) || de.Type != TypeMemberKicked {
		t.Errorf("bad detail: %v", err)
	}
	if (&Message{Elem: &Text{Content: "hi"}}).GroupEvent() != nil {
		t.Error("a text message has a group event")
	}
	if GroupNotice(99).ContentTypes() != nil || GroupNotice(99).String() != "GroupNotice(99)" || MemberJoined.String() != "MemberJoined" {
		t.Error("GroupNotice names")
	}
	if RoleAdmin.String() != "admin" || RoleOwner.String() != "owner" || RoleMember.String() != "member" || !RoleOwner.AtLeastAdmin() || RoleMember.AtLeastAdmin() {
		t.Error("RoleLevel")
	}
}

func FuzzGroupEvent(f *testing.F) {
	for ct, d := range groupDetails {
		f.Add(int32(ct), d)
	}
	f.Add(int32(TypeMemberKicked), `{"kickedUserList":[null]}`)
	f.Fuzz(func(t *testing.T, ct int32, detail string) {
		ev, err := (&Notification{Type: ContentType(ct), Detail: detail}).GroupEvent()
		if err == nil && ev != nil {
			_ = ev.Members()
			_ = ev.Operator()
			_ = ev.GroupInfo()
			if ev.Notice() == 0 {
				t.Fatal("an event without a kind")
			}
		}
	})
}
