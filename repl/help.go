package repl

import (
	"fmt"
	"strings"

	"otrace/runtime/event"
)

const helpIntro = `Type Tengo: a line runs as soon as it is complete (an open bracket or
block continues on the next line; Ctrl-C drops it), and the value of an
expression is printed. Variables, functions and imports stay. A quick
start:

  c := otrace.count("switches")
  otrace.on("sched:sched_switch", func(e) { c.inc(e.prev_comm) })
  :start
  :maps
  :save switches.tengo       (then: otrace run switches.tengo -d 5s)

Commands:
`

const helpOutro = `
Tab completes names, members after "x.", probe names in otrace.on("...")
(globs too: "sched:*wake<Tab>") and fields after "e." in a handler.
:help TOPIC for more: a command, an otrace function (on, count, every...),
'probes', 'event', or a probe name for its fields.
`

// moduleHelp documents the otrace module's functions, by name.
var moduleHelp = map[string]string{
	"on":       `otrace.on(PROBE, [{filter: "...", stack: "user"},] func(e) {...}) attaches a handler; while tracing runs it attaches at once. PROBE may be a glob or an array of probes.`,
	"begin":    `otrace.begin(func() {...}) runs once when tracing starts (attach before :start).`,
	"end":      `otrace.end(func() {...}) runs when tracing stops (:stop, end of a recording, otrace.exit()).`,
	"every":    `otrace.every("1s", func() {...}) runs every interval of trace time while tracing runs.`,
	"exit":     `otrace.exit([status]) stops tracing, as :stop does; otrace run then exits with status (default 0).`,
	"printf":   `otrace.printf(FORMAT, args...) prints; fmt.println and friends too.`,
	"counter":  `otrace.counter(PROBE, [opts]) counts a probe in the kernel: c.value(), c.rate(), c.by_event() ({event: value} over a glob). Make counters before :start.`,
	"count":    `otrace.count([NAME], [{max_keys: N}]) is a counting aggregation: c.inc([key]); :maps prints it. Keys are strings, ints, arrays of them, or stacks. otrace.on(PROBE, c.by("pid")) counts in Go, no function per event (a.by(["comm", "pid"], "bytes") for sum, hist...).`,
	"sum":      `otrace.sum([NAME]): a.add(key, value) sums values per key.`,
	"min":      `otrace.min([NAME]): a.add(key, value) keeps the smallest value per key.`,
	"max":      `otrace.max([NAME]): a.add(key, value) keeps the largest value per key.`,
	"avg":      `otrace.avg([NAME]): a.add(key, value) averages values per key.`,
	"stats":    `otrace.stats() is the run's totals; otrace.stats(NAME) a count/sum/avg/min/max aggregation.`,
	"hist":     `otrace.hist([NAME]): a.add(key, value) makes a power-of-two histogram per key.`,
	"lhist":    `otrace.lhist([NAME], min, max, step): a linear histogram.`,
	"profile":  `otrace.profile({types: ["samples/count"]}) collects stacks: p.add(e.stack, [1]); :export P FILE.pb.gz writes it.`,
	"timeline": `otrace.timeline() collects slices and instants for Perfetto; :export T FILE.json writes it.`,
	"save":     `otrace.save(profile or timeline, PATH) writes it (:export NAME FILE does the same).`,
	"sort":     `otrace.sort(array, [desc]) sorts an array.`,
	"sym":      `otrace.sym(addr, [pid]) names a user address; otrace.ksym(addr) a kernel one.`,
	"intern":   `otrace.intern(s) gives a small int for a string; otrace.str(id) the string back.`,
	"process":  `otrace.process(pid) describes a process: comm, exe, parent...`,
}

const probesHelp = `Probes:
  SYSTEM:EVENT, tracepoint:SYSTEM:EVENT   a kernel tracepoint; globs work: "syscalls:sys_enter_*"
  profile:hz:N                            CPU sampling at N Hz
  software:NAME[:PERIOD]                  cpu-clock, task-clock, page-faults, context-switches...
  uprobe:PATH:SYMBOL, uretprobe:PATH:SYMBOL   user function entry / return
:list GLOB lists them, :fields PROBE shows what e has for one.
`

func eventHelp() string {
	return `The event a handler gets (valid only during the call; keep e.copy()):
  e.name e.time e.cpu e.pid e.tid e.comm    every event has these
  e.FIELD                                   payload fields by name (:fields PROBE)
  e.fields, e.has(NAME), e.field(NAME)      the field names; test for / read a field
  e.stack, e.kstack, e.ustack               the callchain (with {stack: "both"} etc.)
  e.exe, e.lost, e.copy()
`
}

func (r *REPL) help(args []string) error {
	if len(args) > 1 {
		return usage("help")
	}
	var b strings.Builder
	if len(args) == 0 || args[0] == "commands" {
		b.WriteString(helpIntro)
		for _, c := range commands {
			fmt.Fprintf(&b, "  :%-18s %s\n", strings.TrimSpace(c.name+" "+c.args), c.brief)
		}
		b.WriteString(helpOutro)
		r.print(b.String())
		return nil
	}
	topic := strings.TrimPrefix(strings.TrimPrefix(args[0], "otrace."), ":")
	switch {
	case topic == "probes" || topic == "probe":
		r.print(probesHelp)
		return nil
	case topic == "event" || topic == "e":
		r.print(eventHelp())
		return nil
	case findCommand(topic) != nil:
		c := findCommand(topic)
		r.print(fmt.Sprintf(":%s %s\n    %s\n", c.name, c.args, c.brief))
		return nil
	case moduleHelp[topic] != "":
		r.print(moduleHelp[topic] + "\n")
		return nil
	case strings.Contains(topic, ":"):
		var evs []*event.Event
		var err error
		if derr := r.eng.do(func() { evs, err = r.eng.sess.Resolve(topic) }); derr != nil {
			return derr
		}
		if err != nil {
			return err
		}
		r.print(describeFields(evs))
		return nil
	}
	return fmt.Errorf("no help on %q; topics: the commands, %s, probes, event, or a probe name", args[0], strings.Join(sortedKeys(moduleHelp), ", "))
}

func (r *REPL) print(s string) { r.out.Write([]byte(s)) }
