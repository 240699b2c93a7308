package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
	// AppMangerLevel (sic, OpenIM's name) is 2 for an app administrator
	// and 3 or more for a notification account.
	AppMangerLevel int32 `json:"appMangerLevel,omitempty"`
}

// groupRec is a group and its members.
type groupRec struct {
	GroupID    string   `json:"groupID"`
	Name       string   `json:"groupName"`
	Owner      string   `json:"ownerUserID"`
	Members    []string `json:"members"`
	CreateTime int64    `json:"createTime"`

	// Kept by the group endpoints (api_group.go).
	Admins    []string          `json:"admins,omitempty"`
	Muted     map[string]int64  `json:"muted,omitempty"`     // user -> mute end, ms
	Nicknames map[string]string `json:"nicknames,omitempty"` // user -> group nickname
	Joined    map[string]int64  `json:"joined,omitempty"`    // user -> join time of later members, ms
	Status    int32             `json:"status,omitempty"`    // 2 dismissed
	// MemberVersion counts the group's member changes (one per group
	// notification), as OpenIM's group member version log does.
	MemberVersion uint64 `json:"memberVersion,omitempty"`
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

// conv is one conversation's message stream: the newest messages, up to
// the store's history cap. msgs[i] has seq first+i; a nil entry is a
// deleted message. Seqs below first were evicted.
type conv struct {
	id    string
	first int64 // seq of msgs[0]; 1 until a message is evicted
	msgs  []*sdkws.MsgData
	// The session type, sender and receiver whose conversation records
	// index made last: a message with the same three (or a single chat
	// message the other way) makes none.
	recType          int32
	recSend, recRecv string
}

func (c *conv) maxSeq() int64 { return c.first + int64(len(c.msgs)) - 1 }

// minSeq is the conversation's min seq as OpenIM keeps it: 0 while nothing
// was removed, else the lowest seq still stored. Seqs below it are gone
// for good: pulls leave them out.
func (c *conv) minSeq() int64 {
	if c.first <= 1 {
		return 0
	}
	return c.first
}

// get returns the message with seq, or nil if deleted, evicted or out of
// range.
func (c *conv) get(seq int64) *sdkws.MsgData {
	if seq < c.first || seq > c.maxSeq() {
		return nil
	}
	return c.msgs[seq-c.first]
}

// add appends m (whose seq is maxSeq()+1), evicts the oldest messages
// beyond keep (keep <= 0: no limit) and returns how many it evicted.
func (c *conv) add(m *sdkws.MsgData, keep int) int {
	c.msgs = append(c.msgs, m)
	n := 0
	for keep > 0 && len(c.msgs) > keep {
		n++
		// The array keeps its evicted head until append moves the live
		// part to a new one, so it stays within about twice keep.
		c.msgs[0] = nil
		c.msgs = c.msgs[1:]
		c.first++
	}
	return n
}

// record is one line of the store file. A "min" record (written by
// compaction, before any message of its conversation) sets where the
// conversation's stored seqs start.
type record struct {
	K     string    `json:"k"` // user, group, msg, del, token, read, revoke
	User  *userRec  `json:"user,omitempty"`
	Group *groupRec `json:"group,omitempty"`
	Token *tokenRec `json:"token,omitempty"`
	Conv  string    `json:"conv,omitempty"`
	Seq   int64     `json:"seq,omitempty"`
	Msg   []byte    `json:"msg,omitempty"` // protobuf MsgData
	User2 string    `json:"uid,omitempty"` // read: the user whose has-read seq is Seq
}

// store is the sandbox's data: users, groups, tokens, conversations. It is
// not safe for concurrent use; the Server's mutex guards it.
//
// Each conversation keeps its newest keep messages (Config.MaxHistory);
// older ones are evicted and the conversation's min seq rises, as when
// OpenIM clears or expires messages. The store file is compacted when the
// records of evicted messages outnumber the kept messages (and at least
// compactAfter of them): it is rewritten without them, so that it grows
// with what is kept, not with every message ever sent.
type store struct {
	keep         int // messages kept per conversation; <= 0: all
	evicted      int // records of evicted messages in the file
	kept         int // messages kept in memory
	compactAfter int // the fewest evicted records worth a compaction
	log          *slog.Logger
	users        map[string]*userRec
	groups       map[string]*groupRec
	userGroups   map[string]map[string]struct{}
	tokens       map[string]*tokenRec
	convs        map[string]*conv
	userConvs    map[string]map[string]convRec // conversation records of single and notification chats per user
	hasRead      map[string]map[string]int64   // user -> conversation -> has-read seq

	path string
	f    *os.File
	w    *bufio.Writer
	torn int // bytes of a torn last line dropped by load
}

func newStore(keep int) *store {
	return &store{
		keep:         keep,
		compactAfter: 10000,
		log:          slog.New(slog.DiscardHandler),
		users:        map[string]*userRec{},
		groups:       map[string]*groupRec{},
		userGroups:   map[string]map[string]struct{}{},
		tokens:       map[string]*tokenRec{},
		convs:        map[string]*conv{},
		userConvs:    map[string]map[string]convRec{},
		hasRead:      map[string]map[string]int64{},
	}
}

// openStore loads path (if it exists) and opens it for appending. An empty
// path gives a memory-only store. Each conversation keeps its newest keep
// messages (<= 0: all).
func openStore(path string, keep int) (*store, error) {
	s := newStore(keep)
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
	if err := s.maybeCompact(); err != nil {
		s.close()
		return nil, err
	}
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
			s.torn = len(b)
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
		if old := s.groups[g.GroupID]; old != nil {
			for _, m := range old.Members {
				delete(s.userGroups[m], g.GroupID)
			}
		}
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
		s.added(c.add(&m, s.keep))
		s.index(c, &m)
	case "min":
		c := s.conv(rec.Conv)
		if rec.Conv == "" || len(c.msgs) > 0 || rec.Seq < c.first {
			return fmt.Errorf("min seq %d in %s after its messages", rec.Seq, rec.Conv)
		}
		c.first = rec.Seq
	case "read":
		if rec.Conv == "" || rec.User2 == "" {
			return errors.New("read record without conversation or user")
		}
		s.setRead(rec.User2, rec.Conv, rec.Seq)
	case "revoke":
		if c := s.convs[rec.Conv]; c != nil && c.get(rec.Seq) != nil {
			m := proto.Clone(c.get(rec.Seq)).(*sdkws.MsgData)
			m.ContentType, m.Content = 2101, rec.Msg
			c.msgs[rec.Seq-c.first] = m
		}
	case "del":
		if c := s.convs[rec.Conv]; c != nil && c.get(rec.Seq) != nil {
			c.msgs[rec.Seq-c.first] = nil
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
		c = &conv{id: id, first: 1}
		s.convs[id] = c
	}
	return c
}

// index keeps what OpenIM derives from a stored message: the conversation
// records (created for both users of a single chat and for the receiver of
// a notification chat by their first chat message; group records exist for
// every member, see records) and the sender's has-read seq, which OpenIM
// moves to the seq of every chat message the user sends. Notification
// streams (n_) create neither.
func (s *store) index(c *conv, m *sdkws.MsgData) {
	convID := c.id
	if strings.HasPrefix(convID, "n_") {
		return
	}
	s.setRead(m.SendID, convID, m.Seq)
	switch {
	case m.SessionType != 1 && m.SessionType != 4:
		return // no records
	case m.SessionType != c.recType:
	case m.SendID == c.recSend && m.RecvID == c.recRecv,
		m.SessionType == 1 && m.SendID == c.recRecv && m.RecvID == c.recSend:
		return // the records made for an earlier message (a single chat's either way)
	}
	switch m.SessionType {
	case 1:
		s.addRecord(m.SendID, convID, convRec{Type: 1, Peer: m.RecvID})
		s.addRecord(m.RecvID, convID, convRec{Type: 1, Peer: m.SendID})
	case 4:
		s.addRecord(m.RecvID, convID, convRec{Type: 4, Peer: m.SendID})
	}
	c.recType, c.recSend, c.recRecv = m.SessionType, m.SendID, m.RecvID
}

// convRec is a single or notification chat conversation record: its
// session type and the other user.
type convRec struct {
	Type int32
	Peer string
}

func (s *store) addRecord(user, convID string, r convRec) {
	m := s.userConvs[user]
	if m == nil {
		m = map[string]convRec{}
		s.userConvs[user] = m
	}
	if _, ok := m[convID]; !ok {
		m[convID] = r
	}
}

// setRead raises user's has-read seq in convID to seq.
func (s *store) setRead(user, convID string, seq int64) {
	m := s.hasRead[user]
	if m == nil {
		m = map[string]int64{}
		s.hasRead[user] = m
	}
	if seq > m[convID] {
		m[convID] = seq
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
	s.added(c.add(m, s.keep))
	s.index(c, m)
	if err := s.maybeCompact(); err != nil {
		// The message is stored; the file is compacted at a later try.
		s.log.Error("sandbox: store compaction failed", "err", err)
		s.evicted = 0
	}
	return nil
}

// added counts a message added and evicted ones.
func (s *store) added(evicted int) {
	s.kept += 1 - evicted
	s.evicted += evicted
}

// maybeCompact compacts the file when the records of evicted messages
// outnumber the kept messages and compactAfter.
func (s *store) maybeCompact() error {
	if s.w == nil || s.evicted < s.compactAfter || s.evicted < s.kept {
		return nil
	}
	return s.compact()
}

// compact rewrites the store file without the records of evicted messages
// (msg, del and revoke records of seqs below their conversation's first
// stored seq). Every other record is kept as it is, in order, except
// "read" records: the has-read seqs (some set by evicted messages) are
// written once at the end; a "min" record per conversation that lost
// messages comes first. The new file replaces the old one atomically (written aside,
// synced, renamed).
func (s *store) compact() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("sandbox: store %s: write: %w", s.path, err)
	}
	tmp := s.path + ".compact"
	out, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("sandbox: store %s: compact: %w", s.path, err)
	}
	fail := func(err error) error {
		out.Close()
		os.Remove(tmp)
		// Appending goes on at the end of the old file.
		if _, serr := s.f.Seek(0, io.SeekEnd); serr != nil {
			err = errors.Join(err, serr)
		}
		return fmt.Errorf("sandbox: store %s: compact: %w", s.path, err)
	}
	w := bufio.NewWriter(out)
	put := func(rec *record) error {
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	ids := make([]string, 0, len(s.convs))
	for id, c := range s.convs {
		if c.first > 1 {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := put(&record{K: "min", Conv: id, Seq: s.convs[id].first}); err != nil {
			return fail(err)
		}
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	br := bufio.NewReader(s.f)
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		var rec record
		if err := json.Unmarshal(line, &rec); err != nil {
			return fail(err)
		}
		if rec.K == "read" || rec.K == "min" {
			continue // written anew
		}
		if c := s.convs[rec.Conv]; c != nil && c.first > 1 {
			seq := rec.Seq
			if rec.K == "msg" {
				var m sdkws.MsgData
				if err := proto.Unmarshal(rec.Msg, &m); err != nil {
					return fail(err)
				}
				seq = m.Seq
			}
			if (rec.K == "msg" || rec.K == "del" || rec.K == "revoke") && seq < c.first {
				continue
			}
		}
		if _, err := w.Write(line); err != nil {
			return fail(err)
		}
	}
	users := make([]string, 0, len(s.hasRead))
	for u := range s.hasRead {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		convs := make([]string, 0, len(s.hasRead[u]))
		for id := range s.hasRead[u] {
			convs = append(convs, id)
		}
		sort.Strings(convs)
		for _, id := range convs {
			if err := put(&record{K: "read", Conv: id, User2: u, Seq: s.hasRead[u][id]}); err != nil {
				return fail(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if err := out.Sync(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fail(err)
	}
	if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		d.Sync()
		d.Close()
	}
	s.f.Close()
	s.f, s.w = out, bufio.NewWriter(out)
	s.evicted = 0
	return nil
}

// records returns the conversations user has a conversation record for,
// sorted: single and notification chats from index, and sg_<group> for
// every group user is a member of (OpenIM creates those records when the
// group is created or joined).
func (s *store) records(user string) []string {
	var ids []string
	for id := range s.userConvs[user] {
		ids = append(ids, id)
	}
	for g := range s.userGroups[user] {
		ids = append(ids, "sg_"+g)
	}
	sort.Strings(ids)
	return ids
}

// hasRecord reports whether user has a conversation record for id.
func (s *store) hasRecord(user, id string) bool {
	if _, ok := s.userConvs[user][id]; ok {
		return true
	}
	if g, ok := strings.CutPrefix(id, "sg_"); ok {
		_, ok := s.userGroups[user][g]
		return ok
	}
	return false
}

// maxSeq returns the max seq of conversation id, 0 if it has none.
func (s *store) maxSeq(id string) int64 {
	if c := s.convs[id]; c != nil {
		return c.maxSeq()
	}
	return 0
}

// minSeq returns the min seq of conversation id (see conv.minSeq), 0 if
// it has none.
func (s *store) minSeq(id string) int64 {
	if c := s.convs[id]; c != nil {
		return c.minSeq()
	}
	return 0
}

// notificationTwin returns the n_ stream of a conversation ID as OpenIM
// computes it: the part before the first "_" replaced by "n".
func notificationTwin(id string) string {
	if _, rest, ok := strings.Cut(id, "_"); ok {
		return "n_" + rest
	}
	return ""
}

func addSet(m map[string]map[string]struct{}, k, v string) {
	set := m[k]
	if set == nil {
		set = map[string]struct{}{}
		m[k] = set
	}
	set[v] = struct{}{}
}
