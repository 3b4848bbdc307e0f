package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlError turns a yaml error into file:line form.
func yamlError(file string, err error) error {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = "yaml: " + te.Errors[0]
	}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		text := m[2]
		if strings.Contains(text, "not found in type") {
			field := strings.Fields(text)[1]
			text = fmt.Sprintf("unknown field %s (check the spelling against docs/config.md)", field)
		}
		return &Error{File: file, Line: line, Msg: text}
	}
	return &Error{File: file, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// lineOf finds the line of a dotted key path ("floor", "inputs.x86_64-...").
func lineOf(root *yaml.Node, path string) int {
	n := root
	line := 0
	if root != nil {
		line = root.Line
	}
	for _, part := range strings.Split(path, ".") {
		idx := -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
			part = part[:i]
		}
		k := mapKey(n, part)
		if k == nil {
			return line
		}
		line = k.Line
		n = mapValue(n, part)
		if idx >= 0 && n != nil && n.Kind == yaml.SequenceNode && idx < len(n.Content) {
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

// mapKey is the key node of key in mapping n, or nil.
func mapKey(n *yaml.Node, key string) *yaml.Node {
	if i := mapIndex(n, key); i >= 0 {
		return n.Content[i]
	}
	return nil
}

// mapValue is the value node of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if i := mapIndex(n, key); i >= 0 {
		return n.Content[i+1]
	}
	return nil
}

// mapIndex is the index of key's node in mapping n's Content (its value
// follows it), or -1; the first of duplicate keys wins.
func mapIndex(n *yaml.Node, key string) int {
	if n == nil || n.Kind != yaml.MappingNode {
		return -1
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return i
		}
	}
	return -1
}

func yamlKeys(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		if tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]; tag != "" && tag != "-" {
			out[tag] = true
		}
	}
	return out
}
