package router

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/openimbot/openimbot/content"
)

// Env is what an Expr rule sees: one flat record per message. Field names
// are the variable names (Text, SessionType, ...).
//
// The functions hour(), minute() and weekday() (0 is Sunday) give the time
// the message was sent (now when unknown) in the router's time zone (see
// WithLocation); they read the Hour, Minute and Weekday fields.
type Env struct {
	Text           string   // the message text (Message.Text)
	ContentType    int      // content.ContentType, e.g. 101 text, 106 at-text
	SessionType    int      // content.SessionType: 1 single chat, 3 group chat
	SenderID       string   // Message.SendID
	SenderNickname string   // Message.SenderNickname
	GroupID        string   // "" outside groups
	ConversationID string   // Message.ConversationID
	SelfID         string   // the bot's user ID
	MentionsMe     bool     // an at-text mentioning the bot or everyone
	IsGroup        bool     // a group chat
	Seq            int      // Message.Seq
	SendTime       int      // ms since the epoch
	Args           []string // the words after the first, split as SplitArgs does
	Hour           int      // 0-23
	Minute         int      // 0-59
	Weekday        int      // 0 (Sunday) - 6
}

type exprMatcher struct {
	src   string
	prog  *vm.Program
	gs    []guard
	error error
}

// Expr matches messages for which the expr-lang expression src
// (https://expr-lang.org) is true, evaluated over Env: for example
//
//	SessionType == 3 && Text startsWith "/w" && hour() >= 9
//
// src is compiled once, here; a syntax or type error (or a result that is
// not a bool) is a *PatternError with the line and column. The guards of the
// top-level && chain (Text startsWith/endsWith/contains/matches/==
// "literal", SessionType/ContentType == n, GroupID/SenderID == "literal",
// the same with "in [literals]", IsGroup, MentionsMe; an || of guarded
// parts) index the rule, so it is only evaluated for messages that can
// satisfy them. A run-time error counts as no match.
func Expr(src string) Matcher {
	m := &exprMatcher{src: src}
	prog, err := expr.Compile(src, expr.Env(Env{}), expr.AsBool(), expr.Patch(timeFuncs{}))
	if err != nil {
		pe := &PatternError{Kind: "expr", Pattern: src, Msg: err.Error(), Err: err}
		var fe *file.Error
		if errors.As(err, &fe) {
			pe.Line, pe.Column, pe.Msg = fe.Line, fe.Column+1, fe.Message
		}
		m.error = pe
		return m
	}
	m.prog = prog
	if tree, err := parser.Parse(src); err == nil {
		m.gs = exprGuards(tree.Node)
	}
	return m
}

// timeFuncs rewrites hour(), minute() and weekday() into Env fields.
type timeFuncs struct{}

func (timeFuncs) Visit(node *ast.Node) {
	c, ok := (*node).(*ast.CallNode)
	if !ok || len(c.Arguments) != 0 {
		return
	}
	id, ok := c.Callee.(*ast.IdentifierNode)
	if !ok {
		return
	}
	switch id.Value {
	case "hour":
		ast.Patch(node, &ast.IdentifierNode{Value: "Hour"})
	case "minute":
		ast.Patch(node, &ast.IdentifierNode{Value: "Minute"})
	case "weekday":
		ast.Patch(node, &ast.IdentifierNode{Value: "Weekday"})
	}
}

func (m *exprMatcher) String() string { return "Expr(" + strconv.Quote(m.src) + ")" }

func (m *exprMatcher) match(in *input) bool {
	if m.prog == nil {
		return false
	}
	env := in.exprEnv()
	v, _ := in.exprPool.Get().(*vm.VM)
	if v == nil {
		v = &vm.VM{}
	}
	out, err := v.Run(m.prog, env)
	in.exprPool.Put(v)
	if err != nil {
		if in.cfg.logger != nil {
			in.cfg.logger.Debug("router: expr rule failed", "expr", m.src, "err", err)
		}
		return in.trace && in.fail("expr %s: %v", m.src, err)
	}
	if b, _ := out.(bool); b {
		return true
	}
	return in.trace && in.fail("expr %s is false", m.src)
}

func (m *exprMatcher) guards(*config) []guard { return m.gs }

func (m *exprMatcher) specificity() int {
	if m.gs != nil {
		return 600
	}
	return 500
}

func (m *exprMatcher) err() error { return m.error }

func (in *input) exprEnv() *Env {
	if in.hasEnv {
		return in.env
	}
	msg := in.msg
	e := &Env{
		Text:           in.text,
		ContentType:    int(msg.ContentType),
		SessionType:    int(msg.SessionType),
		SenderID:       msg.SendID,
		SenderNickname: msg.SenderNickname,
		GroupID:        msg.GroupID,
		ConversationID: msg.ConversationID,
		SelfID:         in.selfID,
		MentionsMe:     mentionsMe(msg, in.selfID),
		IsGroup:        msg.SessionType.IsGroup(),
		Seq:            int(msg.Seq),
		SendTime:       int(msg.SendTime),
	}
	if toks, err := tokenize(in.text[firstTokenEnd(in.text):], nil); err == nil {
		e.Args = make([]string, len(toks))
		for i, t := range toks {
			e.Args[i] = t.s
		}
	} else {
		e.Args = strings.Fields(in.text)
		if len(e.Args) > 0 {
			e.Args = e.Args[1:]
		}
	}
	t := time.Now()
	if msg.SendTime > 0 {
		t = time.UnixMilli(msg.SendTime)
	}
	if in.cfg.loc != nil {
		t = t.In(in.cfg.loc)
	}
	e.Hour, e.Minute, e.Weekday = t.Hour(), t.Minute(), int(t.Weekday())
	in.env, in.hasEnv = e, true
	return e
}

// exprGuards lifts index guards from the top-level conjunction of node.
func exprGuards(node ast.Node) []guard {
	switch n := node.(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "and":
			l, r := exprGuards(n.Left), exprGuards(n.Right)
			if guardCost(r) < guardCost(l) {
				return r
			}
			return l
		case "||", "or":
			l, r := exprGuards(n.Left), exprGuards(n.Right)
			if l == nil || r == nil {
				return nil
			}
			return append(append([]guard{}, l...), r...)
		case "startsWith", "endsWith", "contains":
			if isIdentNode(n.Left, "Text") {
				if s, ok := n.Right.(*ast.StringNode); ok && s.Value != "" {
					k := map[string]guardKind{"startsWith": gPrefix, "endsWith": gSuffix, "contains": gContains}[n.Operator]
					return []guard{{kind: k, s: s.Value}}
				}
			}
		case "matches":
			if isIdentNode(n.Left, "Text") {
				if s, ok := n.Right.(*ast.StringNode); ok {
					if rm, ok := Regex(s.Value).(*regexMatcher); ok && rm.error == nil {
						return rm.lits
					}
				}
			}
		case "in":
			// Identifier in ["literal", ...]: one guard per element
			arr, ok := n.Right.(*ast.ArrayNode)
			id, ok2 := n.Left.(*ast.IdentifierNode)
			if !ok || !ok2 || len(arr.Nodes) == 0 {
				return nil
			}
			var gs []guard
			for _, el := range arr.Nodes {
				g := exprGuards(&ast.BinaryNode{Operator: "==", Left: id, Right: el})
				if g == nil {
					return nil
				}
				gs = append(gs, g...)
			}
			return gs
		case "==":
			id, lit := n.Left, n.Right
			if _, ok := id.(*ast.IdentifierNode); !ok {
				id, lit = lit, id
			}
			name, ok := id.(*ast.IdentifierNode)
			if !ok {
				return nil
			}
			switch l := lit.(type) {
			case *ast.StringNode:
				switch name.Value {
				case "Text":
					return []guard{{kind: gFull, s: l.Value}}
				case "GroupID":
					if l.Value == "" {
						return nil
					}
					return []guard{{kind: gGroup, s: l.Value}}
				case "SenderID":
					return []guard{{kind: gSender, s: l.Value}}
				}
			case *ast.IntegerNode:
				switch name.Value {
				case "SessionType":
					return []guard{{kind: gSession, n: int64(l.Value)}}
				case "ContentType":
					return []guard{{kind: gContent, n: int64(l.Value)}}
				}
			}
		}
	case *ast.IdentifierNode:
		switch n.Value {
		case "IsGroup":
			return []guard{{kind: gSession, n: int64(content.WriteGroupChat)}, {kind: gSession, n: int64(content.ReadGroupChat)}}
		case "MentionsMe":
			return []guard{{kind: gContent, n: int64(content.TypeAtText)}}
		}
	}
	return nil
}

func isIdentNode(n ast.Node, name string) bool {
	id, ok := n.(*ast.IdentifierNode)
	return ok && id.Value == name
}
