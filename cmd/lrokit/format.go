package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// outputFormat is -o/--output on commands whose output is structured.
type outputFormat struct {
	format string
}

func (o *outputFormat) register(fs *pflag.FlagSet, def, what string) {
	fs.StringVarP(&o.format, "output", "o", def, "output format: json, table or yaml ("+what+")")
}

func (o *outputFormat) check() error {
	switch o.format {
	case "json", "table", "yaml":
		return nil
	}
	return usageErr("--output must be json, table or yaml, not %q", o.format)
}

// write prints v as JSON (compact when compact, else indented), as YAML
// with the JSON field names in the same order, or as table. A nil table
// shows v's top-level fields as FIELD VALUE rows.
func (o *outputFormat) write(w io.Writer, v any, compact bool, table func(*tabwriter.Writer)) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	switch o.format {
	case "yaml":
		var n yaml.Node
		if err := jsonToYAML(json.NewDecoder(bytes.NewReader(b)), &n); err != nil {
			return err
		}
		out, err := yaml.Marshal(&n)
		if err != nil {
			return err
		}
		_, err = w.Write(out)
		return err
	case "table":
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		if table != nil {
			table(tw)
		} else {
			fieldTable(tw, b)
		}
		return tw.Flush()
	}
	if !compact {
		var buf bytes.Buffer
		if err := json.Indent(&buf, b, "", "  "); err != nil {
			return err
		}
		b = buf.Bytes()
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// fieldTable writes a JSON object's top-level fields as rows; nested values
// stay compact JSON.
func fieldTable(tw *tabwriter.Writer, obj []byte) {
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil {
		fmt.Fprintf(tw, "%s\n", obj)
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(tw, "FIELD\tVALUE")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\n", k, cell(m[k]))
	}
}

// cell shows a JSON value in a table: strings bare, the rest as JSON.
func cell(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return strings.NewReplacer("\t", " ", "\n", " ").Replace(s)
	}
	return string(v)
}

// jsonToYAML builds a YAML node from a JSON document, keeping the order of
// object fields (a map would sort them).
func jsonToYAML(dec *json.Decoder, n *yaml.Node) error {
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			n.Kind = yaml.MappingNode
		} else {
			n.Kind = yaml.SequenceNode
		}
		for dec.More() {
			if n.Kind == yaml.MappingNode {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.(string)})
			}
			var child yaml.Node
			if err := jsonToYAML(dec, &child); err != nil {
				return err
			}
			n.Content = append(n.Content, &child)
		}
		_, err := dec.Token() // the closing delimiter
		return err
	case string:
		*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(t.String(), ".eE") {
			tag = "!!float"
		}
		*n = yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: t.String()}
	case bool:
		*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(t)}
	case nil:
		*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	return nil
}

// versionString is what --version prints: the -ldflags version when set,
// else the module version and VCS revision Go recorded in the binary.
func versionString() string {
	if version != "dev" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified, when string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		case "vcs.time":
			when = ", " + s.Value
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += fmt.Sprintf(" (%s%s%s)", rev, modified, when)
	}
	return v + ", " + bi.GoVersion
}

// table shows the status line as a two-row table.
func (s statusJSON) table(tw *tabwriter.Writer) {
	progress, next := "-", "-"
	if s.Progress != nil {
		progress = fmt.Sprintf("%.0f%%", *s.Progress)
	}
	if s.NextPoll != nil {
		next = s.NextPoll.Format("2006-01-02T15:04:05Z07:00")
	}
	detail := s.Detail
	if s.Error != nil {
		detail += " (" + s.Error.Message + ")"
	}
	fmt.Fprintln(tw, "PROVIDER\tKIND\tSTATUS\tDETAIL\tPROGRESS\tPOLLS\tNEXT POLL")
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", s.Provider, s.Kind, s.Status, strings.TrimSpace(detail), progress, s.Polls, next)
}
