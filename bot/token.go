package bot

import (
	"context"
	"errors"
	"fmt"

	"github.com/openimbot/openimbot/transport"
)

// fetchToken gets a user token for the bot through the HTTP API with the
// admin secret, registering the bot's user when it does not exist yet.
func (b *Bot) fetchToken(ctx context.Context) (string, error) {
	api := b.api
	if api == nil {
		return "", errors.New("bot: no HTTP API configured (WithAdminSecret)")
	}
	admin, err := api.GetAdminToken(ctx, b.cfg.adminSecret, b.cfg.adminUserID)
	if err != nil {
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
