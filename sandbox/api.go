package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/pb/msg"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// apiCaller is the verified token holder of an HTTP call.
type apiCaller struct {
	userID      string
	platformID  int32
	operationID string // the request's operationID header
}

type apiHandler func(s *Server, who apiCaller, body []byte) (any, *CodeError)

type apiRoute struct {
	noToken   bool // /auth/get_admin_token, /auth/parse_token
	adminOnly bool
	h         apiHandler
}

// emptyOK answers a call the official SDK makes at login with an empty
// success.
func emptyOK(data any) apiRoute {
	return apiRoute{h: func(*Server, apiCaller, []byte) (any, *CodeError) { return data, nil }}
}

// apiRoutes returns the HTTP API (docs/protocol.md §8). Paths not listed answer 404.
func apiRoutes() map[string]apiRoute {
	routes := messageRoutes() // httpmsg.go
	for k, v := range map[string]apiRoute{
		"/auth/get_admin_token": {noToken: true, h: apiGetAdminToken},
		"/auth/parse_token":     {noToken: true, h: apiParseToken},
		"/auth/get_user_token":  {adminOnly: true, h: apiGetUserToken},
		"/auth/force_logout":    {adminOnly: true, h: apiForceLogout},
		"/user/user_register":   {adminOnly: true, h: apiUserRegister},
		"/user/get_users_info":  {h: apiGetUsersInfo},
		"/msg/send_msg":         {h: apiSendMsg}, // checks the admin after binding the body
		"/group/create_group":   {h: apiCreateGroup},
		"/msg/get_server_time": {h: func(*Server, apiCaller, []byte) (any, *CodeError) {
			return map[string]int64{"serverTime": time.Now().UnixMilli()}, nil
		}},
		"/user/get_self_user_info": {h: apiGetSelfUserInfo},

		// Login-time calls of the official SDK: empty successes.
		"/friend/get_incremental_friends":               emptyOK(incremental()),
		"/conversation/get_incremental_conversations":   emptyOK(incremental()),
		"/group/get_incremental_group_members_batch":    emptyOK(map[string]any{"resp": map[string]any{}}),
		"/friend/get_black_list":                        emptyOK(map[string]any{"blacks": []any{}, "total": 0}),
		"/friend/get_full_friend_user_ids":              emptyOK(map[string]any{"version": 0, "versionID": "", "equal": false, "userIDs": []string{}}),
		"/conversation/get_full_conversation_ids":       {h: apiConversations(true)},
		"/conversation/get_owner_conversation":          {h: apiConversations(false)},
		"/conversation/get_all_conversations":           {h: apiConversations(false)},
		"/conversation/get_conversations":               {h: apiConversations(false)},
		"/conversation/get_not_notify_conversation_ids": emptyOK(map[string]any{"conversationIDs": []string{}}),
		"/conversation/get_pinned_conversation_ids":     emptyOK(map[string]any{"conversationIDs": []string{}}),
		"/friend/get_friend_apply_list":                 emptyOK(map[string]any{"friendRequests": []any{}, "total": 0}),
		"/friend/get_self_friend_apply_list":            emptyOK(map[string]any{"friendRequests": []any{}, "total": 0}),
		"/friend/get_friend_list":                       emptyOK(map[string]any{"friendsInfo": []any{}, "total": 0}),
		"/group/get_joined_group_list":                  emptyOK(map[string]any{"groups": []any{}, "total": 0}),
		"/group/get_recv_group_applicationList":         emptyOK(map[string]any{"groupRequests": []any{}, "total": 0}),
		"/group/get_user_req_group_applicationList":     emptyOK(map[string]any{"groupRequests": []any{}, "total": 0}),
		"/user/process_user_command_get_all":            emptyOK(map[string]any{"CommandResp": []any{}}),
		"/user/get_subscribe_users_status":              emptyOK(map[string]any{"statusList": []any{}}),
		"/user/subscribe_users_status":                  emptyOK(map[string]any{"statusList": []any{}}),
		"/user/get_users_online_status":                 emptyOK(map[string]any{"statusList": []any{}}),
		"/msg/get_conversations_has_read_and_max_seq":   {h: apiHasReadAndMaxSeq},
		"/msg/mark_conversation_as_read":                {h: apiSetHasRead},
		"/msg/set_conversation_has_read_seq":            {h: apiSetHasRead},
		"/msg/mark_msgs_as_read":                        {h: apiSetHasRead},
		"/friend/get_self_unhandled_apply_count":        emptyOK(map[string]any{"count": 0}),
		"/group/get_group_application_unhandled_count":  emptyOK(map[string]any{"count": 0}),
		"/group/get_full_group_member_user_ids":         {h: apiGetFullGroupMemberUserIDs},
		"/third/fcm_update_token":                       emptyOK(nil),
		"/third/set_app_badge":                          emptyOK(nil),
		"/user/update_user_info":                        emptyOK(nil),
		"/user/update_user_info_ex":                     emptyOK(nil),
	} {
		routes[k] = v
	}
	return routes
}

func incremental() map[string]any {
	return map[string]any{"version": 0, "versionID": "", "full": false, "delete": []string{}, "insert": []any{}, "update": []any{}, "sortVersion": 0}
}

// serveAPI handles one HTTP API call (docs/protocol.md §8).
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	// OpenIM's API answers every request with permissive CORS headers and
	// every preflight with 200, so browser clients (the JS SDK) can call it.
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "*")
	h.Set("Access-Control-Allow-Headers", "*")
	h.Set("Access-Control-Expose-Headers", "Content-Length, Access-Control-Allow-Origin, Access-Control-Allow-Headers,Cache-Control,Content-Language,Content-Type,Expires,Last-Modified,Pragma,FooBar")
	h.Set("Access-Control-Max-Age", "172800")
	h.Set("Access-Control-Allow-Credentials", "false")
	if r.Method == http.MethodOptions {
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`"Options Request!"`))
		return
	}
	route, ok := s.routes[r.URL.Path]
	if !ok || r.Method != http.MethodPost {
		s.log.Info("sandbox: http", "path", r.URL.Path, "method", r.Method, "status", http.StatusNotFound)
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	s.stats.http++
	s.mu.Unlock()
	opID := r.Header.Get("operationID")
	r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
	data, cerr := s.callAPI(route, r, opID)
	body := map[string]any{"errCode": 0, "errMsg": "", "errDlt": ""}
	if cerr != nil {
		body["errCode"], body["errMsg"], body["errDlt"] = cerr.Code, cerr.Msg, cerr.Detail
	} else if data != nil {
		body["data"] = data
	}
	b, err := json.Marshal(body)
	if err != nil {
		b = apiBody(CodeServerInternal, codeName(CodeServerInternal), "encode response")
	}
	code := 0
	if cerr != nil {
		code = cerr.Code
	}
	s.log.Info("sandbox: http", "path", r.URL.Path, "operationID", opID, "errCode", code)
	// OpenIM's CORS middleware sets this before gin renders, so it stays
	// without a charset.
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// maxAPIBody is the largest request body the API reads. A larger one is
// refused with ArgsError (1001) naming the limit, in an HTTP 200 envelope
// like every API error, and the connection is closed after the answer.
// (OpenIM's API sets no limit of its own; a body it cannot bind is an
// ArgsError too.)
const maxAPIBody = 1 << 20

func (s *Server) callAPI(route apiRoute, r *http.Request, opID string) (any, *CodeError) {
	if opID == "" {
		return nil, codeErr(CodeArgs, "header must have operationID")
	}
	body, err := io.ReadAll(r.Body)
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return nil, codeErr(CodeArgs, fmt.Sprintf("request body is over the limit of %d bytes", mbe.Limit))
	}
	if err != nil {
		return nil, codeErr(CodeArgs, "read body: "+err.Error())
	}
	who := apiCaller{operationID: opID}
	if !route.noToken {
		tok := r.Header.Get("token")
		if tok == "" {
			return nil, codeErr(CodeArgs, "header must have token")
		}
		s.mu.Lock()
		cl, cerr := parseToken(s.cfg.Secret, tok, time.Now())
		if cerr == nil && cl.UserID != s.cfg.AdminUserID {
			switch t := s.st.tokens[tokenKey(tok)]; {
			case t == nil:
				cerr = codeErr(CodeTokenNotExist, "")
			case t.Kicked:
				cerr = codeErr(CodeTokenKicked, "")
			}
		}
		s.mu.Unlock()
		if cerr != nil {
			return nil, cerr
		}
		who.userID, who.platformID = cl.UserID, cl.PlatformID
		if route.adminOnly && who.userID != s.cfg.AdminUserID {
			return nil, codeErr(CodeNoPermission, "only an admin may call "+r.URL.Path)
		}
	}
	return route.h(s, who, body)
}

func decodeJSON(body []byte, v any) *CodeError {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return codeErr(CodeArgs, "request body: "+err.Error())
	}
	return nil
}

func asCodeErr(err error) *CodeError {
	if err == nil {
		return nil
	}
	if ce, ok := err.(*CodeError); ok {
		return ce
	}
	return codeErr(CodeServerInternal, err.Error())
}

type tokenData struct {
	Token             string `json:"token"`
	ExpireTimeSeconds int64  `json:"expireTimeSeconds"`
}

func apiGetAdminToken(s *Server, _ apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		Secret string `json:"secret"`
		UserID string `json:"userID"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	if in.Secret != s.cfg.Secret {
		return nil, codeErr(CodeNoPermission, "secret invalid")
	}
	if in.UserID != s.cfg.AdminUserID {
		return nil, codeErr(CodeArgs, "userID is error., userID="+in.UserID+", adminUserID=["+s.cfg.AdminUserID+"]")
	}
	tok, err := s.AdminToken()
	if err != nil {
		return nil, asCodeErr(err)
	}
	return tokenData{tok, int64(s.cfg.TokenTTL / time.Second)}, nil
}

func apiGetUserToken(s *Server, _ apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		PlatformID int32  `json:"platformID"`
		UserID     string `json:"userID"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	tok, err := s.UserToken(in.UserID, in.PlatformID)
	if err != nil {
		return nil, asCodeErr(err)
	}
	return tokenData{tok, int64(s.cfg.TokenTTL / time.Second)}, nil
}

func apiParseToken(s *Server, _ apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		Token string `json:"token"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	cl, cerr := parseToken(s.cfg.Secret, in.Token, time.Now())
	if cerr != nil {
		return nil, cerr
	}
	return map[string]any{"userID": cl.UserID, "platformID": cl.PlatformID, "expireTimeSeconds": cl.Exp}, nil
}

func apiForceLogout(s *Server, _ apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		PlatformID int32  `json:"platformID"`
		UserID     string `json:"userID"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	if in.UserID == "" {
		return nil, codeErr(CodeArgs, "userID is empty")
	}
	s.Kick(in.UserID, in.PlatformID)
	return nil, nil
}

type apiUser struct {
	UserID           string `json:"userID"`
	Nickname         string `json:"nickname"`
	FaceURL          string `json:"faceURL"`
	Ex               string `json:"ex"`
	CreateTime       int64  `json:"createTime"`
	AppMangerLevel   int32  `json:"appMangerLevel"`
	GlobalRecvMsgOpt int32  `json:"globalRecvMsgOpt"`
}

func apiUserRegister(s *Server, _ apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		Users []apiUser `json:"users"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	if len(in.Users) == 0 {
		return nil, codeErr(CodeArgs, "users is empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, u := range in.Users {
		if seen[u.UserID] {
			return nil, codeErr(CodeArgs, "userID repeated")
		}
		seen[u.UserID] = true
	}
	for _, u := range in.Users {
		if u.UserID == "" {
			return nil, codeErr(CodeArgs, "userID is empty")
		}
		if strings.Contains(u.UserID, ":") {
			return nil, codeErr(CodeArgs, "userID contains ':' is invalid userID")
		}
	}
	for _, u := range in.Users {
		if _, ok := s.st.users[u.UserID]; ok {
			return nil, codeErr(CodeRegisteredAlready, "userID registered already")
		}
	}
	for _, u := range in.Users {
		if err := s.registerLocked(userRec{UserID: u.UserID, Nickname: u.Nickname, FaceURL: u.FaceURL, Ex: u.Ex, AppMangerLevel: u.AppMangerLevel}); err != nil {
			return nil, asCodeErr(err)
		}
	}
	return nil, nil
}

func userInfo(u *userRec) apiUser {
	return apiUser{UserID: u.UserID, Nickname: u.Nickname, FaceURL: u.FaceURL, Ex: u.Ex, CreateTime: u.CreateTime, AppMangerLevel: u.AppMangerLevel}
}

func apiGetUsersInfo(s *Server, _ apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		UserIDs []string `json:"userIDs"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []apiUser{}
	for _, id := range in.UserIDs {
		if u := s.st.users[id]; u != nil {
			out = append(out, userInfo(u))
		} else if id == s.cfg.AdminUserID {
			out = append(out, apiUser{UserID: id, Nickname: id, AppMangerLevel: 2})
		}
	}
	return map[string]any{"usersInfo": out}, nil
}

func apiGetSelfUserInfo(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.st.users[who.userID]
	if u == nil {
		return nil, codeErr(CodeRecordNotFound, "user "+who.userID+" not found")
	}
	return map[string]any{"user": userInfo(u)}, nil
}

// sendMsgRequired lists, per content type /msg/send_msg accepts in OpenIM
// patch.16, the element fields its validator requires (non-zero), as paths
// into the content object. Other content types fail with 1001.
var sendMsgRequired = map[content.ContentType][]string{
	content.TypeText: {"content"},
	content.TypePicture: {
		"sourcePicture.type", "sourcePicture.width", "sourcePicture.height", "sourcePicture.url",
		"bigPicture.type", "bigPicture.width", "bigPicture.height", "bigPicture.url",
		"snapshotPicture.type", "snapshotPicture.width", "snapshotPicture.height", "snapshotPicture.url"},
	content.TypeSound:          {"sourceUrl", "duration"},
	content.TypeVideo:          {"videoUrl", "videoType", "videoSize", "duration", "snapshotUrl", "snapshotWidth", "snapshotHeight"},
	content.TypeFile:           {"sourceUrl", "fileName", "fileSize"},
	content.TypeAtText:         {"atUserList"},
	content.TypeCustom:         {"data"},
	content.TypeOANotification: {"notificationName", "notificationType", "text"},
}

// lookupFold finds a path in a decoded JSON object, keys matched without
// regard to case (as OpenIM's mapstructure decoding does).
func lookupFold(obj map[string]any, path string) (any, bool) {
	var cur any = obj
	for _, key := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		found := false
		for k, v := range m {
			if strings.EqualFold(k, key) {
				cur, found = v, true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return cur, true
}

// isZeroJSON reports whether v is what a Go validator's "required" rejects.
func isZeroJSON(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case float64:
		return x == 0
	case bool:
		return !x
	}
	return false
}

// apiSendMsg is /msg/send_msg as OpenIM patch.16 does it: the body is
// bound first (1001: sendID, recvID, contentType, sessionType and a JSON
// object content are required; recvID even for groups, because of how the
// server's binding tag is written), then the caller must be the admin
// (1002), then the content type must be one the API supports (1001) and its
// element must pass the validator (500, as OpenIM reports validator
// errors). The content is re-encoded from the decoded object; 1400 goes to
// sessionType 4 wrapped in {"detail":...} and needs an app admin or
// notification account as sender. The message has msgFrom 200, status 0
// and a server-made clientMsgID.
func apiSendMsg(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		SendID           string          `json:"sendID"`
		RecvID           string          `json:"recvID"`
		GroupID          string          `json:"groupID"`
		SenderNickname   string          `json:"senderNickname"`
		SenderFaceURL    string          `json:"senderFaceURL"`
		SenderPlatformID int32           `json:"senderPlatformID"`
		Content          map[string]any  `json:"content"`
		ContentType      int32           `json:"contentType"`
		SessionType      int32           `json:"sessionType"`
		IsOnlineOnly     bool            `json:"isOnlineOnly"`
		NotOfflinePush   bool            `json:"notOfflinePush"`
		SendTime         int64           `json:"sendTime"`
		OfflinePushInfo  *offlinePushDTO `json:"offlinePushInfo"`
		Ex               string          `json:"ex"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	missing := func(field, tag string) *CodeError {
		return codeErr(CodeArgs, "Key: 'SendMsgReq."+field+"' Error:Field validation for '"+field+"' failed on the '"+tag+"' tag")
	}
	switch {
	case in.RecvID == "":
		return nil, missing("RecvID", "required_if")
	case in.SendID == "":
		return nil, missing("SendID", "required")
	case in.Content == nil:
		return nil, missing("Content", "required")
	case in.ContentType == 0:
		return nil, missing("ContentType", "required")
	case in.SessionType == 0:
		return nil, missing("SessionType", "required")
	}
	if who.userID != s.cfg.AdminUserID {
		return nil, codeErr(CodeNoPermission, "only app manager can send message")
	}
	ct := content.ContentType(in.ContentType)
	required, ok := sendMsgRequired[ct]
	if !ok {
		return nil, codeErr(CodeArgs, "")
	}
	if ct == content.TypeOANotification {
		in.SessionType = int32(content.NotificationChat)
		s.mu.Lock()
		u := s.st.users[in.SendID]
		s.mu.Unlock()
		switch {
		case in.SendID == s.cfg.AdminUserID:
		case u == nil:
			return nil, codeErr(CodeUserIDNotFound, "")
		case u.AppMangerLevel != appAdmin && u.AppMangerLevel < appNotificationAdmin:
			return nil, codeErr(CodeNoPermission, "notification messages cannot be sent for this ID")
		}
	}
	for _, path := range required {
		if v, ok := lookupFold(in.Content, path); !ok || isZeroJSON(v) {
			return nil, codeErr(CodeServerInternal, "Key: '"+path+"' Error:Field validation for '"+path+"' failed on the 'required' tag")
		}
	}
	raw, err := json.Marshal(in.Content)
	if err != nil {
		return nil, codeErr(CodeServerInternal, err.Error())
	}
	if ct == content.TypeOANotification {
		raw, _ = json.Marshal(map[string]string{"detail": string(raw)})
	}
	md := &sdkws.MsgData{
		SendID: in.SendID, RecvID: in.RecvID, GroupID: in.GroupID,
		SenderNickname: in.SenderNickname, SenderFaceURL: in.SenderFaceURL, SenderPlatformID: in.SenderPlatformID,
		SessionType: in.SessionType, ContentType: in.ContentType, Content: raw,
		MsgFrom: int32(content.FromSystem), SendTime: in.SendTime, CreateTime: time.Now().UnixMilli(),
		ClientMsgID: newID(), Ex: in.Ex, Options: map[string]bool{},
	}
	if p := in.OfflinePushInfo; p != nil {
		md.OfflinePushInfo = &sdkws.OfflinePushInfo{Title: p.Title, Desc: p.Desc, Ex: p.Ex, IOSPushSound: p.IOSPushSound,
			IOSBadgeCount: p.IOSBadgeCount, SignalInfo: p.SignalInfo}
	}
	if in.IsOnlineOnly {
		for _, k := range []string{"history", "persistent", "senderSync", "conversationUpdate"} {
			md.Options[k] = false
		}
	}
	if in.NotOfflinePush {
		md.Options["offlinePush"] = false
	}
	if cerr := validateMsg(md); cerr != nil {
		return nil, cerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if md.SessionType == int32(content.GroupChat) && s.st.groups[md.GroupID] == nil {
		return nil, codeErr(CodeGroupIDNotFound, "group "+md.GroupID+" does not exist")
	}
	// The pushes carry the operationID of the HTTP call, as OpenIM's do.
	if _, err := s.acceptLocked(md, who.operationID); err != nil {
		return nil, asCodeErr(err)
	}
	return map[string]any{"serverMsgID": md.ServerMsgID, "clientMsgID": md.ClientMsgID, "sendTime": md.SendTime}, nil
}

// offlinePushDTO is sdkws.OfflinePushInfo with its JSON keys.
type offlinePushDTO struct {
	Title         string `json:"title"`
	Desc          string `json:"desc"`
	Ex            string `json:"ex"`
	IOSPushSound  string `json:"iOSPushSound"`
	IOSBadgeCount bool   `json:"iOSBadgeCount"`
	SignalInfo    string `json:"signalInfo"`
}

func apiCreateGroup(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		MemberUserIDs []string `json:"memberUserIDs"`
		AdminUserIDs  []string `json:"adminUserIDs"`
		OwnerUserID   string   `json:"ownerUserID"`
		GroupInfo     struct {
			GroupID   string `json:"groupID"`
			GroupName string `json:"groupName"`
			GroupType int32  `json:"groupType"`
		} `json:"groupInfo"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	owner := in.OwnerUserID
	if owner == "" && who.userID != s.cfg.AdminUserID {
		owner = who.userID
	}
	if owner == "" {
		return nil, codeErr(CodeArgs, "ownerUserID is empty")
	}
	if owner != who.userID && who.userID != s.cfg.AdminUserID {
		return nil, codeErr(CodeNoPermission, "ownerUserID is not the caller (only an admin creates a group owned by another user)")
	}
	id := in.GroupInfo.GroupID
	if id == "" {
		id = strconv.FormatInt(time.Now().UnixNano()%10000000000, 10)
	}
	members := append([]string{owner}, in.AdminUserIDs...)
	members = append(members, in.MemberUserIDs...)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range members {
		if _, ok := s.st.users[m]; !ok && m != s.cfg.AdminUserID {
			return nil, codeErr(CodeUserIDNotFound, "user "+m+" is not registered")
		}
	}
	g := &groupRec{GroupID: id, Name: in.GroupInfo.GroupName, Owner: owner, Members: members, Admins: in.AdminUserIDs}
	if err := s.createGroupLocked(g); err != nil {
		return nil, asCodeErr(err)
	}
	if err := s.groupCreatedLocked(g, who.userID, who.operationID); err != nil {
		return nil, asCodeErr(err)
	}
	return map[string]any{"groupInfo": groupInfo(g)}, nil
}

// groupInfo is a group as sdkws.GroupInfo in JSON (a working group).
func groupInfo(g *groupRec) map[string]any {
	return map[string]any{
		"groupID": g.GroupID, "groupName": g.Name, "ownerUserID": g.Owner, "creatorUserID": g.Owner,
		"memberCount": len(g.Members), "createTime": g.CreateTime, "groupType": 2, "status": 0,
	}
}

// memberInfoLocked is a member as sdkws.GroupMemberFullInfo (see
// memberLocked in api_group.go, which also serves the member endpoints).
// s.mu is held.
func (s *Server) memberInfoLocked(g *groupRec, userID string) content.GroupMember {
	return s.memberLocked(g, userID)
}

func apiGetFullGroupMemberUserIDs(s *Server, _ apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		GroupID string `json:"groupID"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := []string{}
	if g := s.st.groups[in.GroupID]; g != nil {
		ids = append(ids, g.Members...)
	}
	return map[string]any{"version": 0, "versionID": "", "equal": false, "userIDs": ids}, nil
}

// conversationJSONLocked is a conversation record as OpenIM's
// conversation.Conversation in JSON. s.mu is held.
func (s *Server) conversationJSONLocked(owner, id string) map[string]any {
	// maxSeq and minSeq of a record are a member's limits (set when one
	// leaves a group), 0 otherwise; they are left out.
	c := map[string]any{"ownerUserID": owner, "conversationID": id}
	if g, ok := strings.CutPrefix(id, "sg_"); ok {
		c["conversationType"], c["groupID"] = 3, g
	} else if r, ok := s.st.userConvs[owner][id]; ok {
		c["conversationType"], c["userID"] = r.Type, r.Peer
	}
	return c
}

// apiConversations serves the conversation lookups the official SDK makes
// (get_conversations by ID, get_all_conversations, get_owner_conversation
// with pagination, get_full_conversation_ids) from the owner's conversation
// records. The owner is the body's ownerUserID or userID, else the caller.
// With idsOnly it answers get_full_conversation_ids.
func apiConversations(idsOnly bool) apiHandler {
	return func(s *Server, who apiCaller, body []byte) (any, *CodeError) {
		return conversations(s, who, body, idsOnly)
	}
}

func conversations(s *Server, who apiCaller, body []byte, idsOnly bool) (any, *CodeError) {
	var in struct {
		OwnerUserID     string   `json:"ownerUserID"`
		UserID          string   `json:"userID"`
		ConversationIDs []string `json:"conversationIDs"`
		Pagination      *struct {
			PageNumber int `json:"pageNumber"`
			ShowNumber int `json:"showNumber"`
		} `json:"pagination"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	owner := in.OwnerUserID
	if owner == "" {
		owner = in.UserID
	}
	if owner == "" {
		owner = who.userID
	}
	if owner != who.userID && who.userID != s.cfg.AdminUserID {
		return nil, codeErr(CodeNoPermission, "ownerUserID is not the caller")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := s.st.records(owner)
	if in.ConversationIDs != nil {
		var keep []string
		for _, id := range in.ConversationIDs {
			if s.st.hasRecord(owner, id) {
				keep = append(keep, id)
			}
		}
		ids = keep
	}
	if idsOnly {
		if ids == nil {
			ids = []string{}
		}
		return map[string]any{"version": 0, "versionID": "", "equal": false, "conversationIDs": ids}, nil
	}
	total := len(ids)
	if p := in.Pagination; p != nil && p.ShowNumber > 0 {
		from := max(p.PageNumber-1, 0) * p.ShowNumber
		ids = ids[min(from, len(ids)):min(from+p.ShowNumber, len(ids))]
	}
	convs := []any{}
	for _, id := range ids {
		convs = append(convs, s.conversationJSONLocked(owner, id))
	}
	return map[string]any{"total": total, "conversations": convs}, nil
}

// apiHasReadAndMaxSeq is the HTTP form of 1006.
func apiHasReadAndMaxSeq(s *Server, _ apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		UserID          string   `json:"userID"`
		ConversationIDs []string `json:"conversationIDs"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out, cerr := s.hasReadAndMaxSeqLocked(&msg.GetConversationsHasReadAndMaxSeqReq{UserID: in.UserID, ConversationIDs: in.ConversationIDs})
	if cerr != nil {
		return nil, cerr
	}
	seqs := map[string]any{}
	for id, sq := range out.Seqs {
		seqs[id] = map[string]int64{"maxSeq": sq.MaxSeq, "hasReadSeq": sq.HasReadSeq, "maxSeqTime": sq.MaxSeqTime}
	}
	return map[string]any{"seqs": seqs}, nil
}

// apiSetHasRead serves the SDK's read marks (mark_conversation_as_read,
// set_conversation_has_read_seq, mark_msgs_as_read): the caller's has-read
// seq of the conversation rises to hasReadSeq or the highest of seqs. No
// read-receipt notification is sent.
func apiSetHasRead(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		ConversationID string  `json:"conversationID"`
		UserID         string  `json:"userID"`
		HasReadSeq     int64   `json:"hasReadSeq"`
		Seqs           []int64 `json:"seqs"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	if in.ConversationID == "" {
		return nil, codeErr(CodeArgs, "conversationID is empty")
	}
	user := in.UserID
	if user == "" {
		user = who.userID
	}
	if user != who.userID && who.userID != s.cfg.AdminUserID {
		return nil, codeErr(CodeNoPermission, "userID is not the caller")
	}
	seq := in.HasReadSeq
	for _, q := range in.Seqs {
		seq = max(seq, q)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seq = min(seq, s.st.maxSeq(in.ConversationID))
	if seq <= s.st.hasRead[user][in.ConversationID] {
		return nil, nil
	}
	if err := s.st.persist(&record{K: "read", Conv: in.ConversationID, User2: user, Seq: seq}); err != nil {
		return nil, asCodeErr(err)
	}
	return nil, nil
}
