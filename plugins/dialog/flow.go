package dialog

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/openimbot/openimbot/config"
)

// Defaults.
const (
	DefaultTimeout        = 5 * time.Minute
	DefaultCancelMessage  = "Cancelled."
	DefaultTimeoutMessage = "No answer in time; I stopped asking. Start again when you are ready."
	DefaultRetry          = "That is not a valid answer."
)

// DefaultCancelWords are the answers that cancel a dialog unless the
// configuration says otherwise; they are compared ignoring case and
// surrounding space.
var defaultCancelWords = []string{"cancel", "/cancel"}

// settings is the plugin's section.
type settings struct {
	Timeout        time.Duration `yaml:"timeout"`
	Cancel         []string      `yaml:"cancel"`
	CancelMessage  string        `yaml:"cancel_message"`
	TimeoutMessage string        `yaml:"timeout_message"`
	Flows          []config.Node `yaml:"flows"`
}

type flowConf struct {
	Name           string        `yaml:"name"`
	Command        string        `yaml:"command"`
	Description    string        `yaml:"description"`
	Steps          []config.Node `yaml:"steps"`
	Reply          string        `yaml:"reply"`
	Timeout        time.Duration `yaml:"timeout"`
	CancelMessage  string        `yaml:"cancel_message"`
	TimeoutMessage string        `yaml:"timeout_message"`
}

type stepConf struct {
	Key     string   `yaml:"key"`
	Ask     string   `yaml:"ask"`
	Regex   string   `yaml:"regex"`
	Number  bool     `yaml:"number"`
	Min     *float64 `yaml:"min"`
	Max     *float64 `yaml:"max"`
	Choices []string `yaml:"choices"`
	Expr    string   `yaml:"expr"`
	Retry   string   `yaml:"retry"`
}

// flow is a compiled flow.
type flow struct {
	name, command, description string
	pos                        config.Pos
	steps                      []*step
	reply                      *template.Template
	timeout                    time.Duration
	cancelMsg, timeoutMsg      string
}

type step struct {
	key     string
	ask     *template.Template
	re      *regexp.Regexp
	number  bool
	min     *float64
	max     *float64
	choices []string
	prog    *vm.Program
	retry   string // "" means DefaultRetry and the question again
}

// ExprEnv is what a step's expr sees.
type ExprEnv struct {
	Answer   string            // the answer, trimmed
	Number   float64           // the answer as a number (0 when it is not one)
	IsNumber bool              // the answer is a number
	Answers  map[string]string // the earlier answers of the dialog, by key
	SenderID string            // who answers
}

// builtins are the template keys besides the answers.
var builtins = []string{"Flow", "Sender", "SenderID", "Answers"}

// compile compiles the plugin's section. Every error carries its position.
func compile(n config.Node) (*settings, []*flow, error) {
	set := &settings{Timeout: DefaultTimeout, Cancel: defaultCancelWords, CancelMessage: DefaultCancelMessage,
		TimeoutMessage: DefaultTimeoutMessage}
	if err := n.Decode(set); err != nil {
		return nil, nil, err
	}
	var errs config.Errors
	add := func(err error) {
		var ce config.Errors
		if errors.As(err, &ce) {
			errs = append(errs, ce...)
		} else if err != nil {
			errs = append(errs, &config.Error{Pos: n.Pos(), Kind: config.ErrValue, Msg: err.Error()})
		}
	}
	keys := func(n config.Node) map[string]config.Node {
		m := map[string]config.Node{}
		_ = n.Decode(&m)
		return m
	}
	if set.Timeout <= 0 {
		add(keys(n)["timeout"].Errorf("dialog: timeout must be positive, got %v", set.Timeout))
	}
	for i, w := range set.Cancel {
		set.Cancel[i] = strings.ToLower(strings.TrimSpace(w))
	}
	if len(set.Flows) == 0 {
		add(n.Errorf("dialog: no flows (add a flows list)"))
	}
	var flows []*flow
	names, commands := map[string]bool{}, map[string]bool{}
	for i, fn := range set.Flows {
		fc := flowConf{Timeout: set.Timeout, CancelMessage: set.CancelMessage, TimeoutMessage: set.TimeoutMessage}
		if err := fn.Decode(&fc); err != nil {
			add(err)
			continue
		}
		at := keys(fn)
		pos := func(key string) config.Node {
			if k, ok := at[key]; ok {
				return k
			}
			return fn
		}
		if fc.Name == "" {
			fc.Name = "flow " + strconv.Itoa(i+1)
		}
		bad := func(key, format string, args ...any) {
			add(pos(key).Errorf("dialog: flow %q: %s", fc.Name, fmt.Sprintf(format, args...)))
		}
		f := &flow{name: fc.Name, description: fc.Description, pos: fn.Pos(), timeout: fc.Timeout,
			cancelMsg: fc.CancelMessage, timeoutMsg: fc.TimeoutMessage}
		if names[fc.Name] {
			bad("name", "the name is used twice")
		}
		names[fc.Name] = true
		f.command = strings.TrimPrefix(strings.TrimSpace(fc.Command), "/")
		switch {
		case f.command == "":
			bad("", "needs a command that starts it, such as command: /feedback")
		case strings.ContainsFunc(f.command, unicode.IsSpace):
			bad("command", "the command must be one word, got %q", fc.Command)
		case commands[f.command]:
			bad("command", "command /%s starts another flow too", f.command)
		}
		commands[f.command] = true
		if fc.Timeout <= 0 {
			bad("timeout", "timeout must be positive, got %v", fc.Timeout)
		}
		if len(fc.Steps) == 0 {
			bad("steps", "needs at least one step")
		}
		sample := map[string]any{"Flow": "", "Sender": "", "SenderID": "", "Answers": map[string]string{}}
		for j, sn := range fc.Steps {
			s, key, err := compileStep(f.name, j, sn, sample)
			if err != nil {
				add(err)
			}
			if key != "" {
				sample[key] = ""
			}
			if s != nil {
				f.steps = append(f.steps, s)
			}
		}
		if fc.Reply == "" {
			bad("", "needs a reply (a template using the answers, such as \"Thanks, {{.%s}}\")", firstKey(sample))
		} else if t, err := parseTemplate(f.name+" reply", fc.Reply, sample); err != nil {
			bad("reply", "%v", err)
		} else {
			f.reply = t
		}
		flows = append(flows, f)
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	return set, flows, nil
}

func firstKey(sample map[string]any) string {
	for _, k := range slices.Sorted(maps.Keys(sample)) {
		if !slices.Contains(builtins, k) {
			return k
		}
	}
	return "Sender"
}

// compileStep compiles step j of flow name; sample holds the template keys
// known so far (the earlier answers). It returns the step's key even when
// the step has errors, so that later templates may use it.
func compileStep(name string, j int, sn config.Node, sample map[string]any) (*step, string, error) {
	var sc stepConf
	if err := sn.Decode(&sc); err != nil {
		return nil, "", err
	}
	at := map[string]config.Node{}
	_ = sn.Decode(&at)
	var errs config.Errors
	bad := func(key, format string, args ...any) {
		n, ok := at[key]
		if !ok {
			n = sn
		}
		var ce config.Errors
		if errors.As(n.Errorf("dialog: flow %q step %d: %s", name, j+1, fmt.Sprintf(format, args...)), &ce) {
			errs = append(errs, ce...)
		}
	}
	s := &step{key: sc.Key, number: sc.Number, min: sc.Min, max: sc.Max, retry: sc.Retry}
	switch {
	case sc.Key == "":
		bad("", "needs a key to store the answer under")
	case !isIdent(sc.Key):
		bad("key", "key %q must be a letter followed by letters, digits or _ (it is a template name)", sc.Key)
	case slices.Contains(builtins, sc.Key):
		bad("key", "key %q is reserved (%s)", sc.Key, strings.Join(builtins, ", "))
	default:
		if _, dup := sample[sc.Key]; dup {
			bad("key", "key %q is used by an earlier step", sc.Key)
		}
	}
	if sc.Ask == "" {
		bad("", "needs a question (ask)")
	} else if t, err := parseTemplate(name+" ask", sc.Ask, sample); err != nil {
		bad("ask", "%v", err)
	} else {
		s.ask = t
	}
	if sc.Regex != "" {
		re, err := regexp.Compile(sc.Regex)
		if err != nil {
			bad("regex", "invalid regex: %v", err)
		}
		s.re = re
	}
	if (sc.Min != nil || sc.Max != nil) && !sc.Number {
		bad("min", "min and max need number: true")
	}
	if sc.Min != nil && sc.Max != nil && *sc.Min > *sc.Max {
		bad("max", "max %v is below min %v", *sc.Max, *sc.Min)
	}
	for _, c := range sc.Choices {
		if strings.TrimSpace(c) == "" {
			bad("choices", "empty choice")
			break
		}
		s.choices = append(s.choices, strings.TrimSpace(c))
	}
	if sc.Expr != "" {
		prog, err := expr.Compile(sc.Expr, expr.Env(ExprEnv{}), expr.AsBool())
		if err != nil {
			bad("expr", "invalid expr: %s", strings.ReplaceAll(err.Error(), "\n", " | "))
		}
		s.prog = prog
	}
	if len(errs) > 0 {
		return nil, sc.Key, errs
	}
	return s, sc.Key, nil
}

func isIdent(s string) bool {
	for i, r := range s {
		if !(unicode.IsLetter(r) || r == '_' || i > 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return s != ""
}

// parseTemplate parses src and executes it once with sample so that a
// reference to an unknown key is an error now rather than mid-dialog.
func parseTemplate(name, src string, sample map[string]any) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("template: %s", strings.TrimPrefix(err.Error(), "template: "))
	}
	if err := t.Execute(discard{}, sample); err != nil {
		msg := strings.TrimPrefix(err.Error(), "template: ")
		if strings.Contains(msg, "map has no entry for key") {
			msg += " (known: " + strings.Join(slices.Sorted(maps.Keys(sample)), ", ") + ")"
		}
		return nil, fmt.Errorf("template: %s", msg)
	}
	return t, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
