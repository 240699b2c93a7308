package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/openimbot/openimbot/content"
)

// API is a client of the OpenIM HTTP API (docs/protocol.md §8): the calls a bot
// needs. It is safe for concurrent use. Tokens and secrets are sent in
// headers and bodies only and never appear in its errors or logs.
type API struct {
	base string
	hc   *http.Client
	opID func() string
	log  *slog.Logger
}

// APIOption configures an API.
type APIOption func(*API)

// WithHTTPClient sets the HTTP client; default a client with a 10 s timeout.
func WithHTTPClient(hc *http.Client) APIOption { return func(a *API) { a.hc = hc } }

// WithAPIOperationID sets the operationID header generator; default decimal
// unix nanos plus a random number, like the reference SDK.
func WithAPIOperationID(f func() string) APIOption { return func(a *API) { a.opID = f } }

// WithAPILogger sets the logger; default discards.
func WithAPILogger(l *slog.Logger) APIOption { return func(a *API) { a.log = l } }

// NewAPI returns an API client for baseURL, e.g. http://127.0.0.1:10002.
// It does no I/O.
func NewAPI(baseURL string, opts ...APIOption) (*API, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("transport: API base URL %q is not an http(s) URL", baseURL)
	}
	a := &API{base: strings.TrimRight(baseURL, "/")}
	for _, o := range opts {
		o(a)
	}
	if a.hc == nil {
		a.hc = &http.Client{Timeout: 10 * time.Second}
	}
	if a.opID == nil {
		a.opID = defaultOperationID
	}
	if a.log == nil {
		a.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return a, nil
}

type apiEnvelope struct {
	ErrCode int             `json:"errCode"`
	ErrMsg  string          `json:"errMsg"`
	ErrDlt  string          `json:"errDlt"`
	Data    json.RawMessage `json:"data"`
}

// post calls path with body and decodes the envelope's data into out (when
// non-nil). secrets are removed from any error text.
func (a *API) post(ctx context.Context, path, token string, body, out any, secrets ...string) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("transport: API %s: encode request: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("transport: API %s: %w", path, err)
	}
	opID := a.opID()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("operationID", opID)
	if token != "" {
		req.Header.Set("token", token)
	}
	secrets = append(secrets, token)
	resp, err := a.hc.Do(req)
	if err != nil {
		return redact(fmt.Errorf("transport: API %s: %w", path, err), secrets...)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return redact(fmt.Errorf("transport: API %s: read response: %w", path, err), secrets...)
	}
	if resp.StatusCode != http.StatusOK {
		// A proxy or a server without the endpoint: an *APIError whose
		// Code is the HTTP status.
		return fmt.Errorf("transport: API %s: %w", path, &APIError{Code: resp.StatusCode, Msg: "HTTP " + resp.Status})
	}
	var env apiEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return fmt.Errorf("transport: API %s: response is not an OpenIM envelope: %w", path, err)
	}
	if env.ErrCode != 0 {
		ae := &APIError{Code: env.ErrCode, Msg: env.ErrMsg, Detail: env.ErrDlt}
		for _, s := range secrets {
			if s != "" {
				ae.Msg = strings.ReplaceAll(ae.Msg, s, "REDACTED")
				ae.Detail = strings.ReplaceAll(ae.Detail, s, "REDACTED")
			}
		}
		a.log.Debug("API error", "path", path, "operationID", opID, "errCode", ae.Code, "errMsg", ae.Msg)
		return fmt.Errorf("transport: API %s: %w", path, ae)
	}
	if out != nil && len(env.Data) > 0 && string(env.Data) != "null" {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return fmt.Errorf("transport: API %s: decode data: %w", path, err)
		}
	}
	return nil
}

type tokenResp struct {
	Token             string `json:"token"`
	ExpireTimeSeconds int64  `json:"expireTimeSeconds"`
}

// GetAdminToken calls /auth/get_admin_token with the server secret and an
// admin user ID (default imAdmin when empty) and returns the admin token.
func (a *API) GetAdminToken(ctx context.Context, secret, adminUserID string) (string, error) {
	if adminUserID == "" {
		adminUserID = "imAdmin"
	}
	var out tokenResp
	err := a.post(ctx, "/auth/get_admin_token", "", map[string]string{"secret": secret, "userID": adminUserID}, &out, secret)
	if err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", errors.New("transport: API /auth/get_admin_token: empty token in the response")
	}
	return out.Token, nil
}

// GetUserToken calls /auth/get_user_token with an admin token and returns a
// user token for (userID, platformID). Issuing a token kicks earlier tokens
// of the same platform under the default multi-login policy: fetch one per
// bot and platform and reuse it.
func (a *API) GetUserToken(ctx context.Context, adminToken, userID string, platformID int32) (string, error) {
	var out tokenResp
	err := a.post(ctx, "/auth/get_user_token", adminToken, map[string]any{"platformID": platformID, "userID": userID}, &out)
	if err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", errors.New("transport: API /auth/get_user_token: empty token in the response")
	}
	return out.Token, nil
}

// UserInfo is sdkws.UserInfo as the HTTP API returns it.
type UserInfo struct {
	UserID           string `json:"userID"`
	Nickname         string `json:"nickname"`
	FaceURL          string `json:"faceURL"`
	Ex               string `json:"ex"`
	CreateTime       int64  `json:"createTime"`
	AppMangerLevel   int32  `json:"appMangerLevel"`
	GlobalRecvMsgOpt int32  `json:"globalRecvMsgOpt"`
}

// UserRegister calls /user/user_register with an admin token. An existing
// user ID fails with an *APIError of code 1102.
func (a *API) UserRegister(ctx context.Context, adminToken string, users ...UserInfo) error {
	return a.post(ctx, "/user/user_register", adminToken, map[string]any{"users": users}, nil)
}

// GetUsersInfo calls /user/get_users_info with any valid token; unknown IDs
// are absent from the result.
func (a *API) GetUsersInfo(ctx context.Context, token string, userIDs ...string) ([]UserInfo, error) {
	var out struct {
		UsersInfo []UserInfo `json:"usersInfo"`
	}
	if err := a.post(ctx, "/user/get_users_info", token, map[string]any{"userIDs": userIDs}, &out); err != nil {
		return nil, err
	}
	return out.UsersInfo, nil
}

// AdminSend is the body of /msg/send_msg: an admin sends as SendID.
type AdminSend struct {
	SendID           string                   `json:"sendID"`
	RecvID           string                   `json:"recvID"`
	GroupID          string                   `json:"groupID"`
	SenderNickname   string                   `json:"senderNickname"`
	SenderFaceURL    string                   `json:"senderFaceURL"`
	SenderPlatformID int32                    `json:"senderPlatformID"`
	Content          json.RawMessage          `json:"content"` // a JSON object, e.g. {"content":"hi"}
	ContentType      content.ContentType      `json:"contentType"`
	SessionType      content.SessionType      `json:"sessionType"`
	IsOnlineOnly     bool                     `json:"isOnlineOnly"`
	NotOfflinePush   bool                     `json:"notOfflinePush"`
	SendTime         int64                    `json:"sendTime"`
	OfflinePushInfo  *content.OfflinePushInfo `json:"offlinePushInfo"`
	Ex               string                   `json:"ex"`
}

// offlinePushJSON is sdkws.OfflinePushInfo with its proto JSON keys.
type offlinePushJSON struct {
	Title         string `json:"title"`
	Desc          string `json:"desc"`
	Ex            string `json:"ex"`
	IOSPushSound  string `json:"iOSPushSound"`
	IOSBadgeCount bool   `json:"iOSBadgeCount"`
	SignalInfo    string `json:"signalInfo"`
}

// MarshalJSON writes the /msg/send_msg body with the server's keys,
// offlinePushInfo included (content.OfflinePushInfo has no JSON tags).
func (m AdminSend) MarshalJSON() ([]byte, error) {
	type plain AdminSend // without this method
	body := struct {
		plain
		OfflinePushInfo *offlinePushJSON `json:"offlinePushInfo"`
	}{plain: plain(m)}
	if p := m.OfflinePushInfo; p != nil {
		body.OfflinePushInfo = &offlinePushJSON{Title: p.Title, Desc: p.Desc, Ex: p.Ex,
			IOSPushSound: p.IOSPushSound, IOSBadgeCount: p.IOSBadgeCount, SignalInfo: p.SignalInfo}
	}
	return json.Marshal(body)
}

// SendMsg calls /msg/send_msg with an admin token (1002 otherwise).
// m.Content must be a JSON object, e.g. {"content":"hi"}, not a string.
func (a *API) SendMsg(ctx context.Context, adminToken string, m AdminSend) (SendResult, error) {
	c := bytes.TrimSpace(m.Content)
	if len(c) == 0 || c[0] != '{' || !json.Valid(c) {
		return SendResult{}, errors.New("transport: API /msg/send_msg: content must be a JSON object")
	}
	var out struct {
		ServerMsgID string `json:"serverMsgID"`
		ClientMsgID string `json:"clientMsgID"`
		SendTime    int64  `json:"sendTime"`
	}
	if err := a.post(ctx, "/msg/send_msg", adminToken, m, &out); err != nil {
		return SendResult{}, err
	}
	return SendResult{ServerMsgID: out.ServerMsgID, ClientMsgID: out.ClientMsgID, SendTime: out.SendTime}, nil
}

// Bounds of the profile lookup SendMsg does: it waits at most
// profileSendTimeout for the API, and after a failed lookup sends without
// a nickname for profileRetryAfter before trying again.
const (
	profileSendTimeout = 2 * time.Second
	profileRetryAfter  = 30 * time.Second
)

// profileCache keeps the client's own profile for Config.ProfileTTL.
type profileCache struct {
	mu       sync.Mutex
	info     UserInfo
	fetched  time.Time
	failedAt time.Time // last failed lookup
}

// profileForSend returns the cached self profile for SendMsg, fetching it
// within profileSendTimeout; it reports false when the profile is not
// available (then the message goes out without a nickname). Concurrent
// callers wait for one lookup; after a failure they return at once.
func (c *Client) profileForSend(ctx context.Context) (UserInfo, bool) {
	p := &c.profile
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.fetched.IsZero() && time.Since(p.fetched) < c.cfg.ProfileTTL {
		return p.info, true
	}
	if !p.failedAt.IsZero() && time.Since(p.failedAt) < profileRetryAfter {
		return UserInfo{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, profileSendTimeout)
	defer cancel()
	info, err := c.fetchProfileLocked(ctx)
	if err != nil {
		p.failedAt = time.Now()
		c.log.Warn("self profile unavailable; sending without nickname", "err", err)
		return UserInfo{}, false
	}
	return info, true
}

// SelfProfile returns the client's own user info from Config.API, cached
// for Config.ProfileTTL. It fails when Config.API is nil.
func (c *Client) SelfProfile(ctx context.Context) (UserInfo, error) {
	if c.cfg.API == nil {
		return UserInfo{}, errors.New("transport: SelfProfile: Config.API is not set")
	}
	p := &c.profile
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.fetched.IsZero() && time.Since(p.fetched) < c.cfg.ProfileTTL {
		return p.info, nil
	}
	return c.fetchProfileLocked(ctx)
}

// fetchProfileLocked fetches the profile into the cache; c.profile.mu is
// held.
func (c *Client) fetchProfileLocked(ctx context.Context) (UserInfo, error) {
	p := &c.profile
	users, err := c.cfg.API.GetUsersInfo(ctx, c.cfg.Token, c.cfg.UserID)
	if err != nil {
		return UserInfo{}, err
	}
	for _, u := range users {
		if u.UserID == c.cfg.UserID {
			p.info = u
			p.fetched = time.Now()
			p.failedAt = time.Time{}
			return u, nil
		}
	}
	return UserInfo{}, fmt.Errorf("transport: SelfProfile: user %q not found", c.cfg.UserID)
}
