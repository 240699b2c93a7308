package config

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// parseYAMLAt is parseYAML with syntax errors placed where the problem is.
// The YAML library reports the line where the broken construct started (a
// mapping that began ten lines earlier, say) and no column; the problem is
// at the first line whose prefix of the file no longer parses with the same
// complaint, and within it at the token the complaint is about.
func parseYAMLAt(file string, data []byte) (*yaml.Node, error) {
	root, err := parseYAML(file, data)
	if err == nil {
		return root, nil
	}
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || !errors.Is(es[0], ErrSyntax) || es[0].Pos.Line == 0 {
		return nil, err
	}
	e := *es[0]
	lines := bytes.SplitAfter(data, []byte("\n"))
	if line := firstFailingLine(file, lines, e.Msg); line >= e.Pos.Line {
		e.Pos.Line = line
	}
	if e.Pos.Line <= len(lines) {
		e.Pos.Col = problemColumn(string(lines[e.Pos.Line-1]), e.Msg)
	}
	return nil, Errors{&e}
}

// firstFailingLine returns the smallest n such that the first n lines fail
// to parse with msg (0 if none does). Parse failure of prefixes is nearly
// monotonic, so a binary search over n finds it in a few parses.
func firstFailingLine(file string, lines [][]byte, msg string) int {
	fails := func(n int) bool {
		_, err := parseYAML(file, bytes.Join(lines[:n], nil))
		var es Errors
		return errors.As(err, &es) && len(es) == 1 && es[0].Msg == msg
	}
	lo, hi := 1, len(lines)
	if !fails(hi) {
		return 0
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// problemColumn returns the 1-based column, in characters, of the token msg
// complains about on line: a tab or other character that cannot start a
// token, an unclosed quote or bracket, the offending ':' of "a: b: c",
// else the line's first token.
func problemColumn(line, msg string) int {
	line = strings.TrimRight(line, "\r\n")
	col := func(byteOff int) int { return utf8.RuneCountInString(line[:byteOff]) + 1 }
	switch {
	case strings.Contains(msg, "found character that cannot start any token"), strings.Contains(msg, "found a tab"):
		if i := strings.IndexFunc(line, func(r rune) bool { return r == '\t' || r == '@' || r == '`' }); i >= 0 {
			return col(i)
		}
	case strings.Contains(msg, "end of stream"):
		if i := strings.IndexAny(line, `"'`); i >= 0 { // an unclosed quote
			return col(i)
		}
	case strings.Contains(msg, "','") && (strings.Contains(msg, "']'") || strings.Contains(msg, "'}'")):
		if i := strings.LastIndexAny(line, "[{"); i >= 0 { // an unclosed flow collection
			return col(i)
		}
	case strings.Contains(msg, "mapping values are not allowed"):
		// The colon that makes a second key: the second "key:" of the line,
		// or the only one (a plain scalar continued from the line above).
		var colons []int
		for i := 0; i < len(line); i++ {
			if line[i] == ':' && (i+1 == len(line) || line[i+1] == ' ') {
				colons = append(colons, i)
			}
		}
		if len(colons) > 0 {
			return col(colons[min(1, len(colons)-1)])
		}
	}
	if i := strings.IndexFunc(line, func(r rune) bool { return r != ' ' && r != '\t' }); i >= 0 {
		return col(i)
	}
	return 1
}
