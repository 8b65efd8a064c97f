package perf

// Perf event types and configs otrace opens (perf_event.h).
const (
	typeHardware   = 0
	typeSoftware   = 1
	typeTracepoint = 2
)

// Software event configs.
var softwareConfigs = map[string]uint64{
	"cpu-clock":        0,
	"task-clock":       1,
	"page-faults":      2,
	"context-switches": 3,
	"cpu-migrations":   4,
	"minor-faults":     5,
	"major-faults":     6,
	"alignment-faults": 7,
	"emulation-faults": 8,
}

const swDummy = 9

// Hardware event configs.
var hardwareConfigs = map[string]uint64{
	"cpu-cycles":          0,
	"instructions":        1,
	"cache-references":    2,
	"cache-misses":        3,
	"branch-instructions": 4,
	"branch-misses":       5,
	"bus-cycles":          6,
	"ref-cycles":          9,
}

// Spec says how to open one otrace event as a perf event; it is the
// event.Event's Config for events of this collector.
type Spec struct {
	Type   uint32
	Config uint64
	// Freq samples Period times a second instead of every Period events.
	Freq       bool
	Period     uint64
	SampleType uint64
	// Tracepoint is true for tracefs events (tracepoints and uprobes),
	// which take kernel filters.
	Tracepoint bool
}

// defaultPeriod is the sampling period of a software event named without
// one: every event, except for the clocks, which count nanoseconds and
// sample every millisecond.
func defaultPeriod(name string) uint64 {
	switch name {
	case "cpu-clock", "task-clock":
		return 1_000_000
	}
	return 1
}
