package aggobj

import (
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/d5/tengo/v2"

	"otrace/runtime/aggregate"
)

// Config is what aggregation objects need from the script's host.
type Config struct {
	// Out receives a.print(): the script's output. Nil means os.Stdout.
	Out io.Writer
	// Warn, when not nil, receives one-time warnings, such as an
	// aggregation reaching its max_keys.
	Warn func(msg string)
	// ToProfile, when not nil, is a.to_profile(): a profile made from an
	// aggregation keyed by stacks (the exporters live above this package).
	ToProfile func(a *aggregate.Agg) (tengo.Object, error)
}

// Module makes one script's aggregations and keeps them, in creation
// order, in its registry.
type Module struct {
	cfg Config
	reg aggregate.Registry
}

// New makes a module with no aggregations.
func New(cfg Config) *Module {
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	return &Module{cfg: cfg}
}

// Functions are the constructors by name, for the otrace module: count,
// sum, min, max, avg, stats, hist and lhist.
func (m *Module) Functions() map[string]tengo.Object {
	fns := map[string]tengo.Object{}
	for kind := aggregate.Count; kind <= aggregate.LHist; kind++ {
		fns[kind.String()] = &tengo.UserFunction{
			Name:  kind.String(),
			Value: func(args ...tengo.Object) (tengo.Object, error) { return m.construct(kind, args) },
		}
	}
	return fns
}

// Registry holds every aggregation the script made, named or not, in
// creation order: for exporters, and to merge the registries of several
// instances of one script.
func (m *Module) Registry() *aggregate.Registry { return &m.reg }

// PrintAll prints the named aggregations, in creation order, as bpftrace
// does at the end of a run.
func (m *Module) PrintAll(w io.Writer) error { return m.reg.PrintAll(w) }

// construct is otrace.<kind>([name], [opts]), or for lhist
// otrace.lhist([name], min, max, step, [opts]).
func (m *Module) construct(kind aggregate.Kind, args []tengo.Object) (tengo.Object, error) {
	fn := "otrace." + kind.String()
	usage := fn + "([name], [opts])"
	if kind == aggregate.LHist {
		usage = fn + "([name], min, max, step, [opts])"
	}
	rest := args
	var name string
	if len(rest) > 0 {
		switch v := rest[0].(type) {
		case *tengo.String:
			name, rest = v.Value, rest[1:]
		case *tengo.Undefined:
			rest = rest[1:]
		case *tengo.Map, *tengo.ImmutableMap:
		default:
			if kind != aggregate.LHist {
				return nil, fmt.Errorf("%s: name must be a string, not %s", usage, v.TypeName())
			}
		}
	}
	var opts aggregate.Options
	if kind == aggregate.LHist {
		if len(rest) < 3 {
			return nil, fmt.Errorf("%s: want min, max and step after the name", usage)
		}
		bounds := []*int64{&opts.Linear.Min, &opts.Linear.Max, &opts.Linear.Step}
		for i, what := range []string{"min", "max", "step"} {
			v, ok := rest[i].(*tengo.Int)
			if !ok {
				return nil, fmt.Errorf("%s: %s must be an int, not %s", fn, what, rest[i].TypeName())
			}
			*bounds[i] = v.Value
		}
		rest = rest[3:]
	}
	switch len(rest) {
	case 0:
	case 1:
		if err := parseOptions(fn, rest[0], &opts); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%s: want at most %d arguments, got %d", usage, len(args)-len(rest)+1, len(args))
	}
	opts.Warn = m.cfg.Warn
	a, err := m.reg.New(kind, name, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	o := newObject(a, m.cfg.Out)
	if m.cfg.ToProfile != nil {
		o.toProfile = &tengo.UserFunction{Name: "to_profile", Value: func(args ...tengo.Object) (tengo.Object, error) {
			if len(args) != 0 {
				return nil, fmt.Errorf("%s.to_profile() takes no arguments", o.kind)
			}
			return m.cfg.ToProfile(a)
		}}
	}
	return o, nil
}

// parseOptions reads {max_keys: N}.
func parseOptions(fn string, o tengo.Object, opts *aggregate.Options) error {
	var kv map[string]tengo.Object
	switch v := o.(type) {
	case *tengo.Map:
		kv = v.Value
	case *tengo.ImmutableMap:
		kv = v.Value
	default:
		return fmt.Errorf("%s: options must be a map like {max_keys: 1000}, not %s", fn, o.TypeName())
	}
	var bad []string
	for k, v := range kv {
		switch k {
		case "max_keys":
			n, ok := v.(*tengo.Int)
			if !ok || n.Value < 1 || n.Value > math.MaxInt32 {
				return fmt.Errorf("%s: max_keys must be an int from 1 to %d, not %s", fn, math.MaxInt32, v)
			}
			opts.MaxKeys = int(n.Value)
		default:
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("%s: unknown option(s) %s; known: max_keys", fn, strings.Join(bad, ", "))
	}
	return nil
}
