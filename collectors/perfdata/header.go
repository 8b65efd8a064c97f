package perfdata

import (
	"errors"
	"fmt"
	"io"
)

// section is a perf_file_section: where something lives in the file.
type section struct{ off, size uint64 }

func readSection(b []byte) section { return section{le.Uint64(b), le.Uint64(b[8:])} }

// openAt reads a perf.data held by ra, size bytes long.
func (r *Reader) openAt(ra io.ReaderAt, size int64) error {
	h := make([]byte, fileHeaderSize)
	n, err := ra.ReadAt(h[:min(int64(len(h)), size)], 0)
	if err != nil && err != io.EOF {
		return r.readError(0, err)
	}
	if err := r.checkMagic(h[:n], int64(n)); err != nil {
		return err
	}
	if le.Uint64(h[8:]) == pipeHeaderSize {
		return r.openPipe(io.NewSectionReader(ra, pipeHeaderSize, size-pipeHeaderSize), size)
	}
	if n < fileHeaderSize {
		return r.truncated(0, "the file of %d bytes is shorter than the %d-byte header", n, fileHeaderSize)
	}
	if hs := le.Uint64(h[8:]); hs != fileHeaderSize {
		return r.formatError(8, "header size %d is neither %d (a file) nor %d (a pipe)", hs, fileHeaderSize, pipeHeaderSize)
	}
	f := &fileReader{r: r, ra: ra, size: uint64(size)}
	if err := f.attrs(le.Uint64(h[16:]), readSection(h[24:])); err != nil {
		return err
	}
	data := readSection(h[40:])
	switch {
	case data.off < fileHeaderSize:
		return r.formatError(40, "the data section's offset %d is inside the header", data.off)
	case data.off > uint64(size):
		return r.truncated(40, "the file of %d bytes ends before its data section at offset %d", size, data.off)
	}
	if data.size > 1<<62 {
		return r.formatError(48, "the data section's size %d is absurd", data.size)
	}
	end := data.off + data.size
	if data.size == 0 && uint64(size) > data.off {
		// perf record writes the final header when it exits; one that was
		// killed leaves size 0, and perf report then reads to the end.
		r.notice("data-size-0", "the header says the data section is empty, as perf record leaves it when it is killed; reading to the end of the file")
		end = uint64(size)
	} else if err := f.features(h[72:fileHeaderSize], end); err != nil {
		return err
	}
	r.defineAll()
	r.dataEnd = int64(end)
	present := min(end, uint64(size)) - data.off
	r.in = newInput(io.NewSectionReader(ra, int64(data.off), int64(end-data.off)), int64(data.off), int(min(present, bufSize)))
	return nil
}

// fileReader reads the header's sections of a file-mode perf.data.
type fileReader struct {
	r    *Reader
	ra   io.ReaderAt
	size uint64
}

// read returns the n bytes at off, or an error naming what they were.
func (f *fileReader) read(off, n uint64, what string, fieldOff int64) ([]byte, error) {
	if off > f.size || n > f.size-off {
		return nil, f.r.truncated(fieldOff, "the %s at offset %d, %d bytes long, runs past the end of the %d-byte file", what, off, n, f.size)
	}
	b := make([]byte, n)
	if _, err := f.ra.ReadAt(b, int64(off)); err != nil && !(err == io.EOF && n == 0) {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, f.r.truncated(int64(off), "the %s ends early", what)
		}
		return nil, f.r.readError(int64(off), err)
	}
	return b, nil
}

// attrs reads the attributes section: per event its perf_event_attr, then
// the file section of its ids.
func (f *fileReader) attrs(attrSize uint64, s section) error {
	r := f.r
	if attrSize < attrSizeVer0+sectionSize || attrSize > maxAttrSize+sectionSize {
		return r.formatError(16, "attribute entry size %d is not from %d to %d", attrSize, attrSizeVer0+sectionSize, maxAttrSize+sectionSize)
	}
	if s.size%attrSize != 0 {
		return r.formatError(32, "the attributes section of %d bytes is not a whole number of %d-byte entries", s.size, attrSize)
	}
	if n := s.size / attrSize; n > maxAttrs {
		return r.formatError(32, "%d attributes is more than %d", n, maxAttrs)
	}
	b, err := f.read(s.off, s.size, "attributes section", 24)
	if err != nil {
		return err
	}
	nids := uint64(0)
	for at := uint64(0); at < s.size; at += attrSize {
		off := int64(s.off + at)
		entry := b[at : at+attrSize]
		a, _, err := parseAttr(entry[:attrSize-sectionSize])
		if err != nil {
			return r.formatError(off, "attribute %d: %v", at/attrSize, err)
		}
		ids := readSection(entry[attrSize-sectionSize:])
		idsAt := off + int64(attrSize-sectionSize)
		if ids.size%8 != 0 {
			return r.formatError(idsAt, "the ids of attribute %d take %d bytes, not a multiple of 8", at/attrSize, ids.size)
		}
		if nids += ids.size / 8; nids > maxIDs {
			return r.formatError(idsAt, "the attributes have more than %d ids", maxIDs)
		}
		raw, err := f.read(ids.off, ids.size, "id list", idsAt)
		if err != nil {
			return err
		}
		for i := 0; i+8 <= len(raw); i += 8 {
			a.IDs = append(a.IDs, le.Uint64(raw[i:]))
		}
		r.addAttr(&a)
	}
	return nil
}

// features reads the feature sections, whose table follows the data
// section. A file cut inside them still has its data: the reader notes
// what is missing and reads on.
func (f *fileReader) features(bitmap []byte, at uint64) error {
	r := f.r
	var feats []int
	for i := range featureBits {
		if bitmap[i/8]&(1<<(i%8)) != 0 {
			feats = append(feats, i)
		}
	}
	if len(feats) == 0 {
		return nil
	}
	table, err := f.read(at, uint64(len(feats))*sectionSize, "feature table", 72)
	if err != nil {
		r.notice("no-features", "the file is cut short (%s): its event names, tracepoint formats and host are unknown", errMsg(err))
		return nil
	}
	for i, feat := range feats {
		s := readSection(table[i*sectionSize:])
		secAt := int64(at) + int64(i*sectionSize)
		if s.size > maxFeatureSize {
			if feat == featTracingData {
				return r.formatError(secAt, "the %s feature section of %d bytes is larger than %d", featureName(feat), s.size, maxFeatureSize)
			}
			r.notice("feature-size-"+featureName(feat), "the %s feature section of %d bytes is too large and was ignored", featureName(feat), s.size)
			continue
		}
		b, err := f.read(s.off, s.size, featureName(feat)+" feature section", secAt)
		if err != nil {
			r.notice("feature-"+featureName(feat), "the %s feature is missing: %s", featureName(feat), errMsg(err))
			continue
		}
		if err := r.feature(feat, b, int64(s.off)); err != nil {
			return err
		}
	}
	return nil
}

// openPipe reads a pipe-mode stream after its header, up to the first
// sample or the end of perf's synthesized preamble, so that the attrs,
// tracepoint formats and event names are known before the first Read.
// Kernel records read on the way are queued; an error is left for Read to
// report after them.
func (r *Reader) openPipe(src io.Reader, sizeHint int64) error {
	r.pipe = true
	r.in = newInput(src, pipeHeaderSize, int(min(sizeHint, bufSize)))
	for r.err == nil {
		rec, off, err := r.next()
		if err != nil {
			r.err = err
			break
		}
		r.stats.Records++
		t := le.Uint32(rec)
		if t < recUserStart {
			r.push(rec)
			if t == recSample || r.q.full() {
				break
			}
			continue
		}
		if err := r.userRecord(t, rec, off); err != nil {
			r.err = err
		}
		if t == recFinishedInit || t == recFinishedRound {
			break
		}
	}
	r.defineAll()
	return nil
}

// errMsg is an error's message without the file it names, for a notice
// that names the file already.
func errMsg(err error) string {
	var fe *FormatError
	if errors.As(err, &fe) {
		return fmt.Sprintf("offset %d: %s", fe.Off, fe.Msg)
	}
	return err.Error()
}
