package export

import (
	"bufio"
	"encoding/json"
	"io"
)

// JSONLines writes a *Profile as one JSON object per line, one per
// distinct sample; the package documentation describes the fields.
type JSONLines struct{}

// Name is "jsonlines".
func (JSONLines) Name() string { return "jsonlines" }

// Extensions are ".jsonl" and ".json".
func (JSONLines) Extensions() []string { return []string{".jsonl", ".json"} }

// Accepts takes a *Profile.
func (JSONLines) Accepts(data any) bool { _, ok := data.(*Profile); return ok }

// jsonSample is one line. The field names are a promise to the tools
// that read them: change them only with a new format name.
type jsonSample struct {
	Stack  []string         `json:"stack"`
	KStack []string         `json:"kstack"`
	Values map[string]int64 `json:"values"`
	Labels map[string]any   `json:"labels"`
}

// Write writes the samples in the order they were first added.
func (j JSONLines) Write(out io.Writer, data any) error {
	p, err := asProfile(j, data)
	if err != nil {
		return err
	}
	names := newStackNames(p)
	labels := map[uint32]map[string]any{}
	bw := bufio.NewWriterSize(out, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := range p.keys {
		key, vals := p.row(i)
		s := jsonSample{
			Stack:  nonNil(names.rootFirst(key.user)),
			KStack: nonNil(names.rootFirst(key.kernel)),
			Values: make(map[string]int64, len(vals)),
		}
		for c, t := range p.types {
			s.Values[t.Type] = vals[c]
		}
		l, ok := labels[key.labels]
		if !ok {
			l = map[string]any{}
			for _, lb := range p.labels.get(key.labels) {
				if lb.Numeric {
					l[lb.Key] = lb.Num
				} else {
					l[lb.Key] = lb.Str
				}
			}
			labels[key.labels] = l
		}
		s.Labels = l
		if err := enc.Encode(&s); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// nonNil makes an empty stack print as [], not null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
