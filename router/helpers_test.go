package router

import (
	"context"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
)

const testSelf = "bot1"

func textMsg(text string) *content.Message {
	return &content.Message{SendID: "u1", RecvID: testSelf, SessionType: content.SingleChat,
		ContentType: content.TypeText, Elem: &content.Text{Content: text}}
}

func groupMsg(text, group string) *content.Message {
	return &content.Message{SendID: "u1", GroupID: group, SessionType: content.GroupChat,
		ContentType: content.TypeText, Elem: &content.Text{Content: text}}
}

func atMsg(text, group string, at ...string) *content.Message {
	return &content.Message{SendID: "u1", GroupID: group, SessionType: content.GroupChat,
		ContentType: content.TypeAtText, AtUserIDList: at, Elem: &content.AtText{Text: text, AtUserList: at}}
}

func ctxFor(m *content.Message) *bot.Context {
	return bot.NewContext(context.Background(), m, testSelf)
}

// ran returns the names of the routes Trace says would run.
func ranNames(tr Trace) []string {
	var out []string
	for _, s := range tr.Steps {
		if s.Ran {
			out = append(out, s.Route.Name)
		}
	}
	return out
}
