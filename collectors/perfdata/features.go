package perfdata

import (
	"fmt"
	"strconv"
	"strings"

	"otrace/collectors/replay"
)

// MetaPerfVersion is the Meta key of the version of perf that wrote the
// file. The other keys are replay's (replay.MetaHostname and the rest), so
// that a caller treats both kinds of recording alike.
const MetaPerfVersion = "perf_version"

var featureNames = map[int]string{
	featTracingData: "TRACING_DATA", featBuildID: "BUILD_ID", featHostname: "HOSTNAME",
	featOSRelease: "OSRELEASE", featVersion: "VERSION", featArch: "ARCH", featNrCPUs: "NRCPUS",
	featCmdline: "CMDLINE", featEventDesc: "EVENT_DESC", featAuxtrace: "AUXTRACE",
	featDirFormat: "DIR_FORMAT", featCompressed: "COMPRESSED",
}

func featureName(f int) string {
	if n, ok := featureNames[f]; ok {
		return n
	}
	return "feature-" + strconv.Itoa(f)
}

// maxFeatureItems bounds the counts inside feature sections.
const maxFeatureItems = 1 << 16

// feature decodes the feature section f held in b (at offset base). Only
// the tracing data is essential (without it tracepoint payloads cannot be
// decoded); a malformed other feature is named in a notice and ignored.
func (r *Reader) feature(f int, b []byte, base int64) error {
	var err error
	switch f {
	case featTracingData:
		t, terr := parseTracing(b, base)
		if terr != nil {
			return r.cursorError(terr, "tracing data")
		}
		r.tracing = t
		return nil
	case featHostname:
		err = r.metaString(replay.MetaHostname, b, base)
	case featOSRelease:
		err = r.metaString(replay.MetaKernelRelease, b, base)
	case featVersion:
		err = r.metaString(MetaPerfVersion, b, base)
	case featArch:
		if err = r.metaString(replay.MetaArch, b, base); err == nil {
			r.meta[replay.MetaArch] = goarch(r.meta[replay.MetaArch])
		}
	case featNrCPUs:
		c := &cursor{b: b, base: base}
		c.u32("available CPUs")
		online := c.u32("online CPUs")
		if err = c.err; err == nil {
			r.meta[replay.MetaNumCPU] = strconv.FormatUint(uint64(online), 10)
		}
	case featCmdline:
		c := &cursor{b: b, base: base}
		n := c.u32("argument count")
		if n > maxFeatureItems {
			c.fail("%d arguments is more than %d", n, maxFeatureItems)
		}
		args := make([]string, 0, min(n, 64))
		for i := uint32(0); i < n && c.err == nil; i++ {
			args = append(args, c.headerString("argument"))
		}
		if err = c.err; err == nil {
			r.meta[replay.MetaCommandLine] = strings.Join(args, " ")
		}
	case featEventDesc:
		err = r.eventDesc(b, base)
	case featBuildID:
		err = r.buildIDTable(b, base)
	case featDirFormat:
		// The data lives in files beside the header (perf record
		// --threads); this reader reads one file.
		return r.formatError(base, "the perf.data is in directory format (perf record --threads); convert it with perf inject -i DIR -o FILE")
	case featCompressed:
		r.noticeCompressed()
	case featAuxtrace:
		r.noticeAuxtrace()
	}
	if err != nil {
		r.notice("feature-"+strconv.Itoa(f), "the %s feature section is malformed and was ignored: %v", featureName(f), err)
	}
	return nil
}

func (r *Reader) metaString(key string, b []byte, base int64) error {
	c := &cursor{b: b, base: base}
	s := c.headerString(key)
	if c.err == nil {
		r.meta[key] = s
	}
	return c.err
}

// eventDesc reads perf's event names: a count, the attr size, then per
// event its attr, id count, name and ids.
func (r *Reader) eventDesc(b []byte, base int64) error {
	c := &cursor{b: b, base: base}
	n := c.u32("event count")
	size := c.u32("attr size")
	switch {
	case n > maxAttrs:
		c.fail("%d events is more than %d", n, maxAttrs)
	case n > 0 && (size < attrSizeVer0 || size > maxAttrSize):
		c.fail("attr size %d is not from %d to %d", size, attrSizeVer0, maxAttrSize)
	}
	for i := uint32(0); i < n && c.err == nil; i++ {
		c.take(uint64(size), "attr")
		nids := c.u32("id count")
		name := c.headerString("event name")
		if uint64(nids)*8 > uint64(c.left()) {
			c.fail("%d ids do not fit the %d bytes left", nids, c.left())
			break
		}
		for range nids {
			r.names[c.u64("id")] = name
		}
	}
	return c.err
}

// buildIDTable reads the BUILD_ID feature: records of a header, a pid,
// a 24-byte build id field and a file name.
func (r *Reader) buildIDTable(b []byte, base int64) error {
	c := &cursor{b: b, base: base}
	for c.left() > 0 && c.err == nil {
		start := c.off
		h := c.take(recHeaderSize, "build id record header")
		if h == nil {
			break
		}
		misc, size := le.Uint16(h[4:]), uint64(le.Uint16(h[6:]))
		if size < 8+4+24 {
			c.off = start
			c.fail("build id record of %d bytes is shorter than 36", size)
			break
		}
		body := c.take(size-8, "build id record")
		if body == nil {
			break
		}
		id := body[4:24]
		if misc&miscBuildIDSize != 0 {
			id = id[:min(int(body[24]), len(id))]
		}
		path := string(cstring(body[28:]))
		if len(r.buildIDs) < maxFeatureItems && len(id) > 0 {
			r.buildIDs[path] = append([]byte(nil), id...)
		}
	}
	return c.err
}

// goarch turns perf's architecture (uname -m) into Go's name for it, the
// name replay recordings carry.
func goarch(machine string) string {
	switch machine {
	case "x86_64":
		return "amd64"
	case "i386", "i486", "i586", "i686":
		return "386"
	case "aarch64", "arm64":
		return "arm64"
	case "loongarch64":
		return "loong64"
	case "mips64":
		return "mips64"
	}
	if strings.HasPrefix(machine, "arm") {
		return "arm"
	}
	return machine // ppc64le, s390x, riscv64 are spelled alike
}

// which names the file in messages.
func (r *Reader) which() string {
	if r.name != "" {
		return r.name
	}
	return "the perf.data"
}

// notice tells Options.Notice, once per key, what the reader skips or
// cannot do.
func (r *Reader) notice(key, format string, args ...any) {
	if r.opts.Notice == nil || r.noticed[key] {
		return
	}
	r.noticed[key] = true
	prefix := "perfdata: "
	if r.name != "" {
		prefix += r.name + ": "
	}
	r.opts.Notice(prefix + fmt.Sprintf(format, args...))
}

func (r *Reader) noticeCompressed() {
	r.notice("compressed", "it was recorded with perf record -z, and otrace cannot decompress zstd: its compressed records are skipped; record again without -z")
}

func (r *Reader) noticeAuxtrace() {
	r.notice("auxtrace", "it holds AUX area traces (Intel PT, CoreSight, ...), which otrace skips")
}
