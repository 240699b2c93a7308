package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// userRec is a registered user.
type userRec struct {
	UserID     string `json:"userID"`
	Nickname   string `json:"nickname"`
	FaceURL    string `json:"faceURL"`
	Ex         string `json:"ex,omitempty"`
	CreateTime int64  `json:"createTime"`
}

// groupRec is a group and its members.
type groupRec struct {
	GroupID    string   `json:"groupID"`
	Name       string   `json:"groupName"`
	Owner      string   `json:"ownerUserID"`
	Members    []string `json:"members"`
	CreateTime int64    `json:"createTime"`
}

// tokenRec is the server-side state of an issued token (OpenIM keeps it in
// Redis). Key is tokenKey(token); the token itself is not stored.
type tokenRec struct {
	Key        string `json:"key"`
	UserID     string `json:"userID"`
	PlatformID int32  `json:"platformID"`
	Exp        int64  `json:"exp"`
	Kicked     bool   `json:"kicked,omitempty"`
}

// conv is one conversation's message stream. msgs[i] has seq i+1; a nil entry
// is a deleted message.
type conv struct {
	id   string
	msgs []*sdkws.MsgData
}

func (c *conv) maxSeq() int64 { return int64(len(c.msgs)) }

// get returns the message with seq, or nil if deleted or out of range.
func (c *conv) get(seq int64) *sdkws.MsgData {
	if seq < 1 || seq > int64(len(c.msgs)) {
		return nil
	}
	return c.msgs[seq-1]
}

// record is one line of the store file.
type record struct {
	K     string    `json:"k"` // user, group, msg, del, token
	User  *userRec  `json:"user,omitempty"`
	Group *groupRec `json:"group,omitempty"`
	Token *tokenRec `json:"token,omitempty"`
	Conv  string    `json:"conv,omitempty"`
	Seq   int64     `json:"seq,omitempty"`
	Msg   []byte    `json:"msg,omitempty"` // protobuf MsgData
}

// store is the sandbox's data: users, groups, tokens, conversations. It is
// not safe for concurrent use; the Server's mutex guards it.
type store struct {
	users      map[string]*userRec
	groups     map[string]*groupRec
	userGroups map[string]map[string]struct{}
	tokens     map[string]*tokenRec
	convs      map[string]*conv
	userConvs  map[string]map[string]struct{} // single and notification chats per user

	path string
	f    *os.File
	w    *bufio.Writer
}

func newStore() *store {
	return &store{
		users:      map[string]*userRec{},
		groups:     map[string]*groupRec{},
		userGroups: map[string]map[string]struct{}{},
		tokens:     map[string]*tokenRec{},
		convs:      map[string]*conv{},
		userConvs:  map[string]map[string]struct{}{},
	}
}

// openStore loads path (if it exists) and opens it for appending. An empty
// path gives a memory-only store.
func openStore(path string) (*store, error) {
	s := newStore()
	if path == "" {
		return s, nil
	}
	s.path = path
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sandbox: open store: %w", err)
	}
	good, err := s.load(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	// Cut a torn last line (a crash while appending) so new records start
	// on a line of their own.
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, fmt.Errorf("sandbox: store %s: truncate: %w", path, err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("sandbox: store %s: seek: %w", path, err)
	}
	s.f = f
	s.w = bufio.NewWriter(f)
	return s, nil
}

// load replays the records of r and returns the offset after the last
// complete line.
func (s *store) load(r io.Reader) (int64, error) {
	br := bufio.NewReader(r)
	var off int64
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if err == io.EOF {
			// A last line without newline is a torn write: ignore it.
			return off, nil
		}
		if err != nil {
			return 0, fmt.Errorf("sandbox: store %s: read: %w", s.path, err)
		}
		if len(bytes.TrimSpace(b)) > 0 {
			var rec record
			if err := json.Unmarshal(b, &rec); err != nil {
				return 0, fmt.Errorf("%w: %s:%d: %v", ErrCorruptStore, s.path, line, err)
			}
			if err := s.apply(&rec); err != nil {
				return 0, fmt.Errorf("%w: %s:%d: %v", ErrCorruptStore, s.path, line, err)
			}
		}
		off += int64(len(b))
	}
}

// apply changes the in-memory state by one record.
func (s *store) apply(rec *record) error {
	switch rec.K {
	case "user":
		if rec.User == nil || rec.User.UserID == "" {
			return errors.New("user record without userID")
		}
		u := *rec.User
		s.users[u.UserID] = &u
	case "group":
		if rec.Group == nil || rec.Group.GroupID == "" {
			return errors.New("group record without groupID")
		}
		g := *rec.Group
		g.Members = append([]string(nil), g.Members...)
		s.groups[g.GroupID] = &g
		for _, m := range g.Members {
			addSet(s.userGroups, m, g.GroupID)
		}
	case "token":
		if rec.Token == nil || rec.Token.Key == "" {
			return errors.New("token record without key")
		}
		t := *rec.Token
		s.tokens[t.Key] = &t
	case "msg":
		var m sdkws.MsgData
		if err := proto.Unmarshal(rec.Msg, &m); err != nil {
			return fmt.Errorf("message: %v", err)
		}
		if rec.Conv == "" || m.Seq < 1 {
			return fmt.Errorf("message without conversation or seq")
		}
		c := s.conv(rec.Conv)
		if m.Seq != c.maxSeq()+1 {
			return fmt.Errorf("message seq %d in %s, want %d", m.Seq, rec.Conv, c.maxSeq()+1)
		}
		c.msgs = append(c.msgs, &m)
		s.index(rec.Conv, &m)
	case "del":
		if c := s.convs[rec.Conv]; c != nil && rec.Seq >= 1 && rec.Seq <= c.maxSeq() {
			c.msgs[rec.Seq-1] = nil
		}
	default:
		return fmt.Errorf("unknown record kind %q", rec.K)
	}
	return nil
}

// persist appends rec to the file and applies it.
func (s *store) persist(rec *record) error {
	if err := s.write(rec); err != nil {
		return err
	}
	return s.apply(rec)
}

// write appends rec to the file, if there is one.
func (s *store) write(rec *record) error {
	if s.w == nil {
		return nil
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("sandbox: store: encode: %w", err)
	}
	b = append(b, '\n')
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("sandbox: store %s: write: %w", s.path, err)
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("sandbox: store %s: write: %w", s.path, err)
	}
	return nil
}

func (s *store) close() error {
	if s.f == nil {
		return nil
	}
	err := s.w.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f, s.w = nil, nil
	if err != nil {
		return fmt.Errorf("sandbox: store %s: close: %w", s.path, err)
	}
	return nil
}

func (s *store) conv(id string) *conv {
	c := s.convs[id]
	if c == nil {
		c = &conv{id: id}
		s.convs[id] = c
	}
	return c
}

// index records which users take part in a single or notification chat.
func (s *store) index(convID string, m *sdkws.MsgData) {
	if m.GroupID != "" && (m.SessionType == 2 || m.SessionType == 3) {
		return
	}
	addSet(s.userConvs, m.SendID, convID)
	if m.RecvID != "" {
		addSet(s.userConvs, m.RecvID, convID)
	}
}

// addMsg stores m (whose Seq is set here) in convID. m is kept, not
// copied: it must not be changed afterwards.
func (s *store) addMsg(convID string, m *sdkws.MsgData) error {
	c := s.conv(convID)
	m.Seq = c.maxSeq() + 1
	if s.w != nil {
		b, err := proto.Marshal(m)
		if err != nil {
			return fmt.Errorf("sandbox: store: encode message: %w", err)
		}
		if err := s.write(&record{K: "msg", Conv: convID, Msg: b}); err != nil {
			return err
		}
	}
	c.msgs = append(c.msgs, m)
	s.index(convID, m)
	return nil
}

// userConvIDs returns every conversation user takes part in, sorted.
func (s *store) userConvIDs(user string) []string {
	var ids []string
	for id := range s.userConvs[user] {
		ids = append(ids, id)
	}
	for g := range s.userGroups[user] {
		for _, id := range []string{"sg_" + g, "n_" + g} {
			if _, ok := s.convs[id]; ok {
				ids = append(ids, id)
			}
		}
	}
	sort.Strings(ids)
	return ids
}

// canSee reports whether user takes part in conversation id.
func (s *store) canSee(user, id string) bool {
	if _, ok := s.userConvs[user][id]; ok {
		return true
	}
	for _, p := range []string{"sg_", "n_"} {
		if g, ok := strings.CutPrefix(id, p); ok {
			if _, ok := s.userGroups[user][g]; ok {
				return true
			}
		}
	}
	return false
}

func addSet(m map[string]map[string]struct{}, k, v string) {
	set := m[k]
	if set == nil {
		set = map[string]struct{}{}
		m[k] = set
	}
	set[v] = struct{}{}
}
