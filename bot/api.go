package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/transport"
)

// ErrNoAPI is returned by the API methods of a bot without an HTTP API
// address (WithAdminSecret or WithAPIAddr), of a Context built with
// NewContext, and of a bot that has not connected yet (the calls use the
// token of the running connection).
var ErrNoAPI = errors.New("bot: no HTTP API (configure the API address and run the bot)")

// ErrNotMember is returned by API.Member for a user who is not a member of
// the group.
var ErrNotMember = errors.New("bot: not a group member")

// DefaultMemberCacheTTL is how long API.Member, API.Role and API.User keep
// an answer, unless a group notification of that group drops it first. It
// is the reference SDK's profile cache lifetime.
const DefaultMemberCacheTTL = 600 * time.Second

// maxCacheEntries bounds the cached members and users; when full, expired
// entries are dropped, then whole groups.
const maxCacheEntries = 100_000

// API is the OpenIM HTTP API as the bot's own user: every call uses the
// token of the bot's connection, so the server applies its rules for the
// bot's role in each group (the bot must be a group admin to kick or mute
// members, the owner to dismiss). Errors from the server are
// *transport.APIError (match codes with errors.As, token errors with
// errors.Is and transport.ErrTokenExpired).
//
// Lookups of users, members and roles are cached for
// DefaultMemberCacheTTL; any group notification of a group (member
// joined, kicked, muted, role changed...) and the bot's own changes
// through API drop that group's entries. Concurrent lookups of one key
// make one call.
//
// An API is safe for concurrent use. A nil *API answers ErrNoAPI.
type API struct {
	b     *Bot
	ttl   time.Duration
	calls atomic.Int64

	mu      sync.Mutex
	staff   map[string]*entry[staffList]                      // group -> owner and admins
	members map[string]map[string]*entry[content.GroupMember] // group -> user -> member
	users   map[string]*entry[transport.UserInfo]
	size    int
}

// staffList is a group's owner and admins.
type staffList struct {
	owner  string
	admins map[string]bool
}

// entry is one cached answer; ready is closed when val and err are set.
type entry[T any] struct {
	ready chan struct{}
	at    time.Time
	val   T
	err   error
}

// API returns the bot's HTTP API client. It is the same value on every
// call.
func (b *Bot) API() *API {
	b.apiOnce.Do(func() {
		b.apiv = &API{b: b, ttl: DefaultMemberCacheTTL,
			staff:   map[string]*entry[staffList]{},
			members: map[string]map[string]*entry[content.GroupMember]{},
			users:   map[string]*entry[transport.UserInfo]{}}
	})
	return b.apiv
}

// API returns the bot's HTTP API client; a nil *API (whose calls answer
// ErrNoAPI) for a Context built with NewContext.
func (c *Context) API() *API {
	if c.bot == nil {
		return nil
	}
	return c.bot.API()
}

// SelfProfile returns the bot's own user info, cached for the profile TTL
// of the connection (600 s by default). It needs the HTTP API and a
// running connection (ErrNoAPI otherwise).
func (b *Bot) SelfProfile(ctx context.Context) (transport.UserInfo, error) {
	cl := b.client.Load()
	if cl == nil || b.api == nil {
		return transport.UserInfo{}, ErrNoAPI
	}
	return cl.SelfProfile(ctx)
}

// Calls returns the number of HTTP calls this API has made.
func (a *API) Calls() int64 {
	if a == nil {
		return 0
	}
	return a.calls.Load()
}

// Client returns the underlying HTTP client and the current token, for
// calls this type does not wrap; ErrNoAPI when there is none yet.
func (a *API) Client() (*transport.API, string, error) {
	if a == nil || a.b == nil || a.b.api == nil {
		return nil, "", ErrNoAPI
	}
	cur := a.b.rx.cur.Load() // the session's Source, in every receive mode
	if cur == nil || cur.tok == "" {
		return nil, "", ErrNoAPI
	}
	return a.b.api, cur.tok, nil
}

// call runs f with the client and token, counting the call.
func (a *API) call(f func(api *transport.API, token string) error) error {
	api, tok, err := a.Client()
	if err != nil {
		return err
	}
	a.calls.Add(1)
	return f(api, tok)
}

// User returns a user's info (cached). An unknown user is an *APIError
// with code 1004, as the server reports unknown records.
func (a *API) User(ctx context.Context, userID string) (transport.UserInfo, error) {
	if a == nil {
		return transport.UserInfo{}, ErrNoAPI
	}
	return cached(a, func() map[string]*entry[transport.UserInfo] { return a.users }, userID, func() (transport.UserInfo, error) {
		var out transport.UserInfo
		err := a.call(func(api *transport.API, tok string) error {
			us, err := api.GetUsersInfo(ctx, tok, userID)
			if err != nil {
				return err
			}
			for _, u := range us {
				if u.UserID == userID {
					out = u
					return nil
				}
			}
			return fmt.Errorf("bot: user %q: %w", userID, &transport.APIError{Code: 1004, Msg: "RecordNotFoundError", Detail: "user not found"})
		})
		return out, err
	})
}

// Users returns the info of the given users (not cached); unknown IDs are
// absent.
func (a *API) Users(ctx context.Context, userIDs ...string) (out []transport.UserInfo, err error) {
	err = a.call(func(api *transport.API, tok string) error {
		out, err = api.GetUsersInfo(ctx, tok, userIDs...)
		return err
	})
	return out, err
}

// Group returns a group's info; an unknown group is an *APIError with
// code 1004.
func (a *API) Group(ctx context.Context, groupID string) (content.GroupInfo, error) {
	var gs []content.GroupInfo
	err := a.call(func(api *transport.API, tok string) (err error) {
		gs, err = api.GetGroupsInfo(ctx, tok, groupID)
		return err
	})
	if err != nil {
		return content.GroupInfo{}, err
	}
	for _, g := range gs {
		if g.GroupID == groupID {
			return g, nil
		}
	}
	return content.GroupInfo{}, fmt.Errorf("bot: group %q: %w", groupID, &transport.APIError{Code: 1004, Msg: "RecordNotFoundError", Detail: "group not found"})
}

// JoinedGroups returns one page of the groups the bot is a member of and
// their total.
func (a *API) JoinedGroups(ctx context.Context, page transport.Page) (gs []content.GroupInfo, total int, err error) {
	err = a.call(func(api *transport.API, tok string) error {
		gs, total, err = api.GetJoinedGroupList(ctx, tok, a.b.cfg.userID, page)
		return err
	})
	return gs, total, err
}

// Members returns one page of a group's members (owner, admins, then the
// others) and the member count.
func (a *API) Members(ctx context.Context, groupID string, page transport.Page) (ms []content.GroupMember, total int, err error) {
	err = a.call(func(api *transport.API, tok string) error {
		ms, total, err = api.GetGroupMemberList(ctx, tok, groupID, page)
		return err
	})
	return ms, total, err
}

// MembersInfo returns the given users as members of a group (not cached);
// users who are not members are absent.
func (a *API) MembersInfo(ctx context.Context, groupID string, userIDs ...string) (ms []content.GroupMember, err error) {
	err = a.call(func(api *transport.API, tok string) error {
		ms, err = api.GetGroupMembersInfo(ctx, tok, groupID, userIDs...)
		return err
	})
	return ms, err
}

// Member returns userID as a member of groupID (cached), or an error
// matching ErrNotMember.
func (a *API) Member(ctx context.Context, groupID, userID string) (content.GroupMember, error) {
	if a == nil {
		return content.GroupMember{}, ErrNoAPI
	}
	byUser := func() map[string]*entry[content.GroupMember] {
		m := a.members[groupID]
		if m == nil {
			m = map[string]*entry[content.GroupMember]{}
			a.members[groupID] = m
		}
		return m
	}
	return cached(a, byUser, userID, func() (content.GroupMember, error) {
		var ms []content.GroupMember
		err := a.call(func(api *transport.API, tok string) (err error) {
			ms, err = api.GetGroupMembersInfo(ctx, tok, groupID, userID)
			return err
		})
		if err != nil {
			return content.GroupMember{}, err
		}
		for _, m := range ms {
			if m.UserID == userID {
				return m, nil
			}
		}
		return content.GroupMember{}, fmt.Errorf("%w: %s in %s", ErrNotMember, userID, groupID)
	})
}

// staffPage is the page size of the staff lookup: the member list is
// sorted by role, so the owner and admins come first.
const staffPage = 100

// Role returns userID's role in groupID: content.RoleOwner,
// content.RoleAdmin, or content.RoleMember for anyone else (members and
// non-members alike; use Member to tell them apart). It reads the group's
// owner and admins from the member list, which the server sorts by role,
// once per group and cache lifetime: a burst of messages in one group
// costs one lookup, whoever sends them.
func (a *API) Role(ctx context.Context, groupID, userID string) (content.RoleLevel, error) {
	if a == nil {
		return 0, ErrNoAPI
	}
	st, err := cached(a, func() map[string]*entry[staffList] { return a.staff }, groupID, func() (staffList, error) {
		st := staffList{admins: map[string]bool{}}
		for n := int32(1); ; n++ {
			ms, _, err := a.Members(ctx, groupID, transport.Page{Number: n, Size: staffPage})
			if err != nil {
				return staffList{}, err
			}
			for _, m := range ms {
				switch m.RoleLevel {
				case content.RoleOwner:
					st.owner = m.UserID
				case content.RoleAdmin:
					st.admins[m.UserID] = true
				}
			}
			if len(ms) < staffPage || !ms[len(ms)-1].RoleLevel.AtLeastAdmin() {
				return st, nil
			}
		}
	})
	switch {
	case err != nil:
		return 0, err
	case st.owner == userID:
		return content.RoleOwner, nil
	case st.admins[userID]:
		return content.RoleAdmin, nil
	}
	return content.RoleMember, nil
}

// cached returns m[key] if fresh, else runs fetch once for all concurrent
// callers and caches a successful answer. getMap returns the map with a.mu
// held (a group's member map may be dropped and made anew meanwhile).
func cached[T any](a *API, getMap func() map[string]*entry[T], key string, fetch func() (T, error)) (T, error) {
	a.mu.Lock()
	m := getMap()
	e := m[key]
	if e != nil {
		select {
		case <-e.ready:
			if time.Since(e.at) < a.ttl {
				a.mu.Unlock()
				return e.val, nil
			}
			delete(m, key)
			a.size--
			e = nil
		default:
		}
	}
	if e != nil {
		a.mu.Unlock()
		<-e.ready
		if e.err != nil {
			var zero T
			return zero, e.err
		}
		return e.val, nil
	}
	if a.size >= maxCacheEntries {
		a.evictLocked()
		m = getMap()
	}
	e = &entry[T]{ready: make(chan struct{})}
	m[key] = e
	a.size++
	a.mu.Unlock()

	e.val, e.err = fetch()
	e.at = time.Now()
	a.mu.Lock()
	if m := getMap(); e.err != nil && m[key] == e {
		delete(m, key) // errors are not cached
		a.size--
	}
	close(e.ready)
	a.mu.Unlock()
	return e.val, e.err
}

// evictLocked makes room: every expired entry goes, and if that was not
// enough, the member entries of whole groups. a.mu is held.
func (a *API) evictLocked() {
	now := time.Now()
	expired := func(at time.Time) bool { return !at.IsZero() && now.Sub(at) >= a.ttl }
	for k, e := range a.users {
		if expired(e.at) {
			delete(a.users, k)
			a.size--
		}
	}
	for k, e := range a.staff {
		if expired(e.at) {
			delete(a.staff, k)
			a.size--
		}
	}
	for g, byUser := range a.members {
		if a.size < maxCacheEntries*3/4 {
			break
		}
		a.size -= len(byUser)
		delete(a.members, g)
	}
	if a.size >= maxCacheEntries {
		a.size -= len(a.users)
		clear(a.users)
	}
}

// Forget drops every cached entry of a group.
func (a *API) Forget(groupID string) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.staff[groupID]; ok {
		delete(a.staff, groupID)
		a.size--
	}
	a.size -= len(a.members[groupID])
	delete(a.members, groupID)
}

// observe drops the cached entries a received notification makes stale:
// a group's after any group notification of it.
func (a *API) observe(m *content.Message) {
	if m == nil || !content.IsGroupNotification(m.ContentType) || m.GroupID == "" {
		return
	}
	a.Forget(m.GroupID)
}

// changed runs a changing call and then forgets the group.
func (a *API) changed(groupID string, f func(api *transport.API, tok string) error) error {
	err := a.call(f)
	a.Forget(groupID)
	return err
}

// Invite adds users to a group at once (the bot must be a member).
func (a *API) Invite(ctx context.Context, groupID string, userIDs ...string) error {
	return a.changed(groupID, func(api *transport.API, tok string) error {
		return api.InviteUserToGroup(ctx, tok, groupID, "", userIDs...)
	})
}

// Kick removes users from a group; reason is recorded by the server.
func (a *API) Kick(ctx context.Context, groupID, reason string, userIDs ...string) error {
	return a.changed(groupID, func(api *transport.API, tok string) error {
		return api.KickGroupMember(ctx, tok, groupID, reason, userIDs...)
	})
}

// Mute stops userID from sending to the group for d (whole seconds, at
// least one).
func (a *API) Mute(ctx context.Context, groupID, userID string, d time.Duration) error {
	return a.changed(groupID, func(api *transport.API, tok string) error {
		return api.MuteGroupMember(ctx, tok, groupID, userID, d)
	})
}

// Unmute lifts a mute.
func (a *API) Unmute(ctx context.Context, groupID, userID string) error {
	return a.changed(groupID, func(api *transport.API, tok string) error {
		return api.CancelMuteGroupMember(ctx, tok, groupID, userID)
	})
}

// SetRole makes userID an admin (content.RoleAdmin) or an ordinary member
// (content.RoleMember).
func (a *API) SetRole(ctx context.Context, groupID, userID string, role content.RoleLevel) error {
	return a.changed(groupID, func(api *transport.API, tok string) error {
		return api.SetGroupMemberRole(ctx, tok, groupID, userID, role)
	})
}

// SetNickname sets userID's nickname in the group.
func (a *API) SetNickname(ctx context.Context, groupID, userID, nickname string) error {
	return a.changed(groupID, func(api *transport.API, tok string) error {
		return api.SetGroupMemberNickname(ctx, tok, groupID, userID, nickname)
	})
}

// Transfer makes newOwner the owner of a group the bot owns.
func (a *API) Transfer(ctx context.Context, groupID, newOwner string) error {
	return a.changed(groupID, func(api *transport.API, tok string) error {
		return api.TransferGroupOwner(ctx, tok, groupID, a.b.cfg.userID, newOwner)
	})
}

// Dismiss dismisses a group the bot owns.
func (a *API) Dismiss(ctx context.Context, groupID string) error {
	return a.changed(groupID, func(api *transport.API, tok string) error {
		return api.DismissGroup(ctx, tok, groupID)
	})
}

// Revoke revokes the message with seq in a conversation, as the bot.
func (a *API) Revoke(ctx context.Context, conversationID string, seq int64) error {
	return a.call(func(api *transport.API, tok string) error {
		return api.RevokeMsg(ctx, tok, a.b.cfg.userID, conversationID, seq)
	})
}

// MarkRead raises the bot's has-read seq of a conversation to seq.
func (a *API) MarkRead(ctx context.Context, conversationID string, seq int64) error {
	return a.call(func(api *transport.API, tok string) error {
		return api.MarkConversationAsRead(ctx, tok, a.b.cfg.userID, conversationID, seq)
	})
}

// Seqs returns the newest seq and the bot's has-read seq of the given
// conversations (all of the bot's when none is given).
func (a *API) Seqs(ctx context.Context, conversationIDs ...string) (out map[string]transport.ConversationSeqs, err error) {
	err = a.call(func(api *transport.API, tok string) error {
		out, err = api.GetConversationsHasReadAndMaxSeq(ctx, tok, a.b.cfg.userID, conversationIDs...)
		return err
	})
	return out, err
}

// Conversations returns one page of the bot's conversations and their
// total.
func (a *API) Conversations(ctx context.Context, page transport.Page) (cs []transport.Conversation, total int, err error) {
	err = a.call(func(api *transport.API, tok string) error {
		cs, total, err = api.GetOwnerConversation(ctx, tok, a.b.cfg.userID, page)
		return err
	})
	return cs, total, err
}

// SyncNow syncs by seq at once, as after a reconnect: it asks the server
// for the newest seq of every conversation and pulls and delivers what the
// bot has not seen, then returns (the handlers may still be running). It
// waits for the event the bot is handling, and the event loop waits for
// it. It fails with ErrNotConnected before Run has connected. Like
// Shutdown it must not be called from a handler (the sync may wait for
// that handler's queue): start it in a goroutine there.
func (b *Bot) SyncNow(ctx context.Context) error {
	b.mu.Lock()
	sy := b.sync
	b.mu.Unlock()
	if sy == nil || b.Status() != transport.StatusConnected {
		return ErrNotConnected
	}
	return sy.onConnected(ctx)
}
