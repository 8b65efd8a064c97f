package event

// Record is the view of one event a handler receives. Collectors fill one
// Record per dispatch goroutine and re-point it at each event; a handler must
// not keep it (or Raw, which aliases the collector's buffer) after it returns.
type Record struct {
	Event *Event
	Time  uint64 // nanoseconds, the collector's clock (CLOCK_MONOTONIC on Linux)
	CPU   uint32
	PID   int32 // thread group id; -1 when the collector does not know it
	TID   int32
	// Raw is the event's payload, laid out as Event.Format says.
	Raw []byte
	// Callchain holds the sampled stack, leaf first, as the kernel records
	// it: context markers (ContextKernel, ContextUser) start each part.
	// SplitCallchain separates them.
	Callchain []uint64
	// Lost counts events this record's CPU dropped since the record before
	// it, so a handler that pairs events (entry/exit) can tell a gap.
	Lost uint64
	// UserRegs are the user-space registers at the event, in ascending
	// order of the perf register numbers set in UserRegsMask, and
	// UserStack the valid part of a copy of the user stack from the
	// stack pointer up: what a DwarfStack event unwinds. Like Raw they
	// alias the collector's buffer; they are nil when the event has none
	// (another stack mode, a kernel thread).
	UserRegs     []uint64
	UserRegsMask uint64
	UserStack    []byte
}

// Handler is what an Event calls for each of its records: a native Go
// handler and a script handler look the same to the dispatch loop.
type Handler interface {
	HandleEvent(rec *Record) error
}

// HandlerFunc adapts a Go function to Handler.
type HandlerFunc func(rec *Record) error

// HandleEvent calls f.
func (f HandlerFunc) HandleEvent(rec *Record) error { return f(rec) }

// Attachment is one handler attached to one or more events. A glob probe
// such as syscalls:sys_enter_* attaches one Attachment to many events, so
// its statistics are shared by them.
type Attachment struct {
	ID      int    // dense, in attach order
	Probe   string // the probe as the user wrote it
	Where   string // where it was attached, e.g. "trace.tengo:3:1"
	Handler Handler
	Stats   HandlerStats
}

// Event is one kind of event a collector can deliver: a tracepoint, a
// sampling event, a probe. Its handlers run in the order they were attached.
type Event struct {
	// ID is a dense index the session assigns when a handler is first
	// attached; catalogs create events with ID -1.
	ID     int
	Name   string // canonical probe name, e.g. "sched:sched_switch", "profile:hz:99"
	Format *Format
	// Config is collector-specific: what to open (tracepoint id, sample
	// frequency, uprobe path and offset).
	Config any
	// Filter is a tracepoint filter in the kernel's syntax
	// ("prev_state == 1 && next_pid != 0"). Events that differ only in
	// their filter are distinct Events: a live collector opens each with
	// its filter, a recording evaluates it.
	Filter string
	// Stack is which callchain the event's records carry. Events that
	// differ in it are distinct Events, like filters.
	Stack StackMode
	// StackSize is how many bytes of user stack a DwarfStack event copies
	// per record; 0 means DefaultStackSize.
	StackSize uint32
	// Lost counts records of this event the collector dropped, where it
	// can tell (Linux 6.0+ counts them per event).
	Lost uint64

	Handlers []*Attachment
	// Count is the number of records delivered for this event.
	Count uint64
}

// Attach appends a handler.
func (e *Event) Attach(a *Attachment) {
	e.Handlers = append(e.Handlers, a)
}

// Detach removes a handler; it is a no-op if a is not attached.
func (e *Event) Detach(a *Attachment) {
	for i, h := range e.Handlers {
		if h == a {
			e.Handlers = append(e.Handlers[:i:i], e.Handlers[i+1:]...)
			return
		}
	}
}
