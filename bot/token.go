package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"time"

	"github.com/openimbot/openimbot/transport"
)

// fetchTokenRetry is fetchToken with the websocket's back-off: a failure to
// reach the HTTP API (a connection error, a timeout, an HTTP or OpenIM 5xx)
// is retried after transport Config.Backoff(attempt), up to
// Config.MaxReconnects attempts (negative: forever), so that a bot started
// before its server waits for it; anything else, a rejected secret above
// all, is returned at once. Each failed attempt is logged at WARN and
// reported to the WithOnConnectFailed hooks. It returns ctx's error when ctx
// ends.
func (b *Bot) fetchTokenRetry(ctx context.Context) (string, error) {
	tc := b.transportConfig()
	backoff, maxTries := tc.Backoff, tc.MaxReconnects
	if backoff == nil {
		backoff = transport.DefaultBackoff
	}
	if maxTries == 0 {
		maxTries = transport.DefaultMaxReconnects
	}
	for attempt := 1; ; attempt++ {
		tok, err := b.fetchToken(ctx)
		switch {
		case err == nil:
			if attempt > 1 {
				b.log.Info("bot: got a token", "attempts", attempt)
			}
			return tok, nil
		case ctx.Err() != nil:
			return "", ctx.Err()
		case !retryableAPIError(err):
			return "", err
		case maxTries > 0 && attempt >= maxTries:
			return "", fmt.Errorf("%w after %d attempts: %w", transport.ErrReconnectsExhausted, attempt, err)
		}
		for _, f := range b.cfg.onConnectFail {
			f(err)
		}
		d := backoff(attempt)
		b.log.Warn("bot: cannot reach the HTTP API for a token; retrying", "attempt", attempt, "in", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		}
	}
}

// retryableAPIError reports whether an HTTP API call failed in a way that
// waiting may fix: the server could not be reached or answered with a 5xx
// (HTTP, or OpenIM's 500 internal error), 408 or 429. An OpenIM error
// (a rejected secret, an unknown admin user) or an answer that is not the
// API's is not retried.
func retryableAPIError(err error) bool {
	var ae *transport.APIError
	if errors.As(err, &ae) {
		return ae.Code >= 500 && ae.Code < 600 || ae.Code == 408 || ae.Code == 429
	}
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// fetchToken gets a user token for the bot through the HTTP API with the
// admin secret, registering the bot's user when it does not exist yet.
func (b *Bot) fetchToken(ctx context.Context) (string, error) {
	api := b.api
	if api == nil {
		return "", errors.New("bot: no HTTP API configured (WithAdminSecret)")
	}
	admin, err := api.GetAdminToken(ctx, b.cfg.adminSecret, b.cfg.adminUserID)
	if err != nil {
		if !retryableAPIError(err) {
			return "", fmt.Errorf("bot: admin token for %s refused (check the admin secret and admin user ID): %w", b.cfg.adminUserID, err)
		}
		return "", fmt.Errorf("bot: admin token: %w", err)
	}
	tok, err := api.GetUserToken(ctx, admin, b.cfg.userID, b.cfg.platformID)
	if err == nil {
		return tok, nil
	}
	var ae *transport.APIError
	if !errors.As(err, &ae) || (ae.Code != 1101 && ae.Code != 1004) {
		return "", fmt.Errorf("bot: user token for %s: %w", b.cfg.userID, err)
	}
	b.log.Info("bot: registering the bot's user", "user", b.cfg.userID)
	nick := b.cfg.nickname
	if nick == "" {
		nick = b.cfg.userID
	}
	if err := api.UserRegister(ctx, admin, transport.UserInfo{UserID: b.cfg.userID, Nickname: nick}); err != nil {
		if !errors.As(err, &ae) || ae.Code != 1102 {
			return "", fmt.Errorf("bot: register %s: %w", b.cfg.userID, err)
		}
	}
	tok, err = api.GetUserToken(ctx, admin, b.cfg.userID, b.cfg.platformID)
	if err != nil {
		return "", fmt.Errorf("bot: user token for %s: %w", b.cfg.userID, err)
	}
	return tok, nil
}
