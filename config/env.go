package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LookupFunc looks up an environment variable, like os.LookupEnv.
type LookupFunc func(name string) (string, bool)

// expand replaces ${NAME} and ${NAME:-default} in s. $${ stands for a
// literal ${. A $ followed by anything else is kept as it is, so regular
// expressions such as ^hi$ need no escaping. It reports whether any
// reference was replaced.
func expand(s string, lookup LookupFunc) (out string, changed bool, err error) {
	if !strings.Contains(s, "${") {
		return s, false, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		if i > 0 && s[i-1] == '$' { // $${ -> ${
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			changed = true
			continue
		}
		b.WriteString(s[:i])
		rest := s[i+2:]
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return "", false, fmt.Errorf("unterminated ${ (write $${ for a literal ${)")
		}
		ref := rest[:end]
		name, def, hasDef := strings.Cut(ref, ":-")
		if !validEnvName(name) {
			return "", false, fmt.Errorf("invalid environment variable reference ${%s}: want ${NAME} or ${NAME:-default}", short(ref))
		}
		val, ok := lookup(name)
		switch {
		case hasDef && val == "":
			val = def
		case !ok:
			return "", false, fmt.Errorf("environment variable %s is not set (write ${%s:-default} to give a default)", name, name)
		}
		b.WriteString(val)
		changed = true
		s = rest[end+1:]
	}
	return b.String(), changed, nil
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z':
		case '0' <= r && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// expandTree expands the references in every scalar value of the tree rooted
// at n (keys are left alone). It records the expanded scalars in secret, so
// that their values are never shown in error messages.
func (d *decoder) expandTree(n *yaml.Node, lookup LookupFunc) {
	seen := make(map[*yaml.Node]bool)
	var walk func(n *yaml.Node, isKey bool)
	walk = func(n *yaml.Node, isKey bool) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		switch n.Kind {
		case yaml.ScalarNode:
			if isKey {
				return
			}
			out, changed, err := expand(n.Value, lookup)
			if err != nil {
				d.errorf(n, ErrEnv, "%v", err)
				return
			}
			if changed {
				n.Value = out
				if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle|yaml.TaggedStyle) == 0 {
					n.Tag = "" // resolve the expanded text again: ${PORT:-7} is an integer
				}
				d.secret[n] = true
			}
		case yaml.MappingNode:
			for i, c := range n.Content {
				walk(c, i%2 == 0)
			}
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, false)
			}
		}
	}
	walk(n, false)
}
