package config

import (
	"fmt"
	"io"
	"os"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// ParseRules parses auto-reply rules from data, for programs that keep rules
// outside the configuration file or build them in Go. data is either a YAML
// list of rules or a mapping with a rules key (a whole configuration file:
// then it is checked as by Parse, and only its rules are returned). Rules
// are validated as in a configuration file, duplicate names included; the
// autoreply plugin compiles them. file names data in positions; lookup
// resolves ${NAME} references (nil means os.LookupEnv). An empty data gives
// no rules and no error. The error, if any, is an Errors list.
func ParseRules(file string, data []byte, lookup LookupFunc) ([]Rule, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	if len(data) > MaxFileSize {
		return nil, Errors{{Pos: Pos{File: file}, Kind: ErrValue, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}}
	}
	root, err := parseYAMLAt(file, data)
	if err != nil || root == nil {
		return nil, err
	}
	d := newDecoder(file, make(map[*yaml.Node]bool))
	d.expandTree(root, lookup)
	if err := d.err(); err != nil {
		return nil, err
	}
	top := d.resolve(root)
	switch {
	case top == nil || isNull(top):
		return nil, nil
	case top.Kind == yaml.MappingNode:
		cfg, err := Parse(file, data, lookup)
		if err != nil {
			return nil, err
		}
		return cfg.Rules, nil
	case top.Kind != yaml.SequenceNode:
		d.errorf(top, ErrType, "expected a list of rules (or a mapping with a rules key), got %s", kindName(top))
		return nil, d.err()
	}
	var rules []Rule
	d.decode(top, reflect.ValueOf(&rules).Elem())
	if err := d.err(); err != nil {
		return nil, err
	}
	validateRules(d, rules)
	if err := d.err(); err != nil {
		return nil, err
	}
	return rules, nil
}

// LoadRules reads the file at path and parses it with ParseRules, expanding
// environment variables with os.LookupEnv.
func LoadRules(path string) ([]Rule, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return ParseRules(path, data, os.LookupEnv)
}

// ParseNode parses data, one YAML document, into a Node such as a plugin's
// section of the configuration, with positions in file: for tests of a
// plugin's Setup, and for plugins that read a file of their own. lookup
// resolves ${NAME} references (nil means os.LookupEnv). Empty data gives
// the zero Node.
func ParseNode(file string, data []byte, lookup LookupFunc) (Node, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	if len(data) > MaxFileSize {
		return Node{}, Errors{{Pos: Pos{File: file}, Kind: ErrValue, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}}
	}
	root, err := parseYAMLAt(file, data)
	if err != nil || root == nil {
		return Node{file: file}, err
	}
	d := newDecoder(file, make(map[*yaml.Node]bool))
	d.expandTree(root, lookup)
	if err := d.err(); err != nil {
		return Node{}, err
	}
	n := d.resolve(root)
	if n == nil || isNull(n) {
		return Node{file: file}, nil
	}
	return Node{n: n, file: file, secret: d.secret}, nil
}

// readFile reads a configuration-sized file.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	return data, nil
}

// validateRules validates every rule, then reports a name given to two
// rules (at the second, naming the first): check, help and the logs tell
// rules apart by name.
func validateRules(d *decoder, rules []Rule) {
	for i := range rules {
		rules[i].validate(d, i)
	}
	first := make(map[string]int, len(rules))
	for i := range rules {
		r := &rules[i]
		if !r.Has("name") {
			continue
		}
		if j, ok := first[r.Name]; ok {
			p := r.PosOf("name")
			d.errorf(&yaml.Node{Line: p.Line, Column: p.Col}, ErrValue, "rule %q: the name is already used by the rule at line %d", short(r.Name), rules[j].Pos.Line)
			continue
		}
		first[r.Name] = i
	}
}
