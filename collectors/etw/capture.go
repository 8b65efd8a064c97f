package etw

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// A capture holds raw ETW records as a consumer received them, so that
// what a Windows machine saw can be decoded again anywhere (and the
// decoder tested on Linux). It is little-endian throughout:
//
//	magic   8 bytes "OTRETW01"
//	entries to the end, each 8-byte aligned:
//	  u32 size   the entry, this header included, a multiple of 8
//	  u16 kind   1 CLOCK, 2 SCHEMA, 3 RECORD
//	  u16 0
//	  body
//
//	CLOCK   i64 ticks per second, i64 raw time the session started
//	SCHEMA  the key TDH answered for (provider GUID, u16 id, u8 opcode,
//	        u8 version, u32 0), then the TRACE_EVENT_INFO bytes
//	RECORD  a flattened EVENT_RECORD (AppendFlat)
//
// A SCHEMA precedes the first RECORD it describes.
const captureMagic = "OTRETW01"

const (
	capClock  = 1
	capSchema = 2
	capRecord = 3
)

// maxCaptureEntry bounds one entry: a record is at most 64 KiB of user
// data plus its extended items.
const maxCaptureEntry = 1 << 20

// CaptureWriter writes a capture.
type CaptureWriter struct {
	w       io.Writer
	buf     []byte
	err     error
	schemas map[schemaKey]bool
}

// NewCaptureWriter starts a capture on w.
func NewCaptureWriter(w io.Writer) (*CaptureWriter, error) {
	if _, err := io.WriteString(w, captureMagic); err != nil {
		return nil, err
	}
	return &CaptureWriter{w: w, schemas: map[schemaKey]bool{}}, nil
}

func (c *CaptureWriter) entry(kind uint16, body func([]byte) []byte) error {
	if c.err != nil {
		return c.err
	}
	b := append(c.buf[:0], 0, 0, 0, 0, 0, 0, 0, 0)
	b = body(b)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	binary.LittleEndian.PutUint16(b[4:], kind)
	c.buf = b
	_, c.err = c.w.Write(b)
	return c.err
}

// Clock records the session's timestamp frequency and start.
func (c *CaptureWriter) Clock(freq, start int64) error {
	return c.entry(capClock, func(b []byte) []byte {
		b = binary.LittleEndian.AppendUint64(b, uint64(freq))
		return binary.LittleEndian.AppendUint64(b, uint64(start))
	})
}

// EventInfo records the TRACE_EVENT_INFO TDH gave for records like r,
// once per kind of record.
func (c *CaptureWriter) EventInfo(r *Record, info []byte) error {
	k := keyOf(&r.Header)
	if c.schemas[k] {
		return c.err
	}
	c.schemas[k] = true
	return c.entry(capSchema, func(b []byte) []byte {
		b = appendGUID(b, k.provider)
		b = binary.LittleEndian.AppendUint16(b, k.id)
		b = append(b, k.opcode, k.version, 0, 0, 0, 0)
		return append(b, info...)
	})
}

// Record records one record.
func (c *CaptureWriter) Record(r *Record) error {
	return c.entry(capRecord, func(b []byte) []byte { return AppendFlat(b, r) })
}

// Err is the first write error.
func (c *CaptureWriter) Err() error { return c.err }

// captureData is a capture read into memory.
type captureData struct {
	freq, start int64
	hasClock    bool
	schemas     map[schemaKey][]byte
	records     [][]byte // flattened EVENT_RECORDs
}

// parseCapture reads a whole capture.
func parseCapture(b []byte) (*captureData, error) {
	if !bytes.HasPrefix(b, []byte(captureMagic)) {
		return nil, errors.New("etw: not an otrace ETW capture (no OTRETW01 magic)")
	}
	d := &captureData{schemas: map[schemaKey][]byte{}}
	le := binary.LittleEndian
	for off := len(captureMagic); off < len(b); {
		if len(b)-off < 8 {
			return nil, errAt("capture", off, "%d bytes left, too few for an entry header", len(b)-off)
		}
		size := int(le.Uint32(b[off:]))
		kind := le.Uint16(b[off+4:])
		if size < 8 || size%8 != 0 || size > maxCaptureEntry {
			return nil, errAt("capture", off, "entry size %d is not a multiple of 8 between 8 and %d", size, maxCaptureEntry)
		}
		if size > len(b)-off {
			return nil, errAt("capture", off, "entry of %d bytes runs past the end (%d left): the capture is truncated", size, len(b)-off)
		}
		body := b[off+8 : off+size]
		switch kind {
		case capClock:
			if len(body) < 16 {
				return nil, errAt("capture", off, "CLOCK entry of %d bytes, want 16", len(body))
			}
			d.freq, d.start, d.hasClock = int64(le.Uint64(body)), int64(le.Uint64(body[8:])), true
		case capSchema:
			if len(body) < 24 {
				return nil, errAt("capture", off, "SCHEMA entry of %d bytes, want at least 24", len(body))
			}
			k := schemaKey{provider: guidAt(body), id: le.Uint16(body[16:]), opcode: body[18], version: body[19]}
			d.schemas[k] = body[24:]
		case capRecord:
			d.records = append(d.records, body)
		}
		// Other kinds are from a later otrace: skipped.
		off += size
	}
	return d, nil
}

// NewCapture returns a Source that delivers a capture's records, decoded
// exactly as a live session decodes them, then io.EOF. The capture is
// read into memory.
func NewCapture(r io.Reader, opts Options) (*Source, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("etw: reading the capture: %w", err)
	}
	d, err := parseCapture(b)
	if err != nil {
		return nil, err
	}
	p := &capturePlatform{data: d, stop: make(chan struct{})}
	s := newSource(p, opts)
	return s, nil
}

// capturePlatform feeds a capture's records to a Source from its own
// goroutine, as ProcessTrace does live.
type capturePlatform struct {
	data    *captureData
	stop    chan struct{}
	stopped sync.Once
	done    chan struct{}
}

// Providers lists the providers the capture's schemas name.
func (p *capturePlatform) Providers() ([]ProviderInfo, error) {
	seen := map[GUID]bool{}
	var out []ProviderInfo
	for _, b := range p.data.schemas {
		s, err := ParseEventInfo(b)
		if err != nil || seen[s.Provider] || s.ProviderName == "" {
			continue
		}
		seen[s.Provider] = true
		out = append(out, ProviderInfo{GUID: s.Provider, Name: s.ProviderName, MOF: s.Source == SourceWbem})
	}
	return out, nil
}

// ManifestSchemas returns the capture's manifest schemas of provider.
func (p *capturePlatform) ManifestSchemas(provider GUID) ([]*Schema, error) {
	var out []*Schema
	for k, b := range p.data.schemas {
		if k.provider != provider {
			continue
		}
		if s, err := ParseEventInfo(b); err == nil && s.Source == SourceManifest {
			out = append(out, s)
		}
	}
	return out, nil
}

// EventInfo returns the schema recorded for records like r.
func (p *capturePlatform) EventInfo(r *Record) ([]byte, error) {
	if b, ok := p.data.schemas[keyOf(&r.Header)]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("the capture has no schema for %v", keyOf(&r.Header))
}

// Start feeds the records from a goroutine.
func (p *capturePlatform) Start(s *Source, _ *Plan) error {
	if p.data.hasClock {
		s.setClock(p.data.freq, p.data.start)
	}
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		var rec Record
		for _, b := range p.data.records {
			select {
			case <-p.stop:
				s.endInput(nil)
				return
			default:
			}
			if err := ParseRecord(b, FlatMemory(b), &rec); err != nil {
				s.malformed(err)
				continue
			}
			s.ingest(&rec)
		}
		s.endInput(nil)
	}()
	return nil
}

// Now implements platform: a capture has no clock.
func (p *capturePlatform) Now() (int64, bool) { return 0, false }

// Flush implements platform.
func (p *capturePlatform) Flush() {}

// Stop stops the feeding goroutine and waits for it.
func (p *capturePlatform) Stop() error {
	p.stopped.Do(func() { close(p.stop) })
	if p.done != nil {
		<-p.done
	}
	return nil
}
