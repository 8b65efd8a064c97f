package perfdata

// addAttr adds an event and its ids, and recomputes how records find
// their event.
func (r *Reader) addAttr(a *Attr) {
	r.attrs = append(r.attrs, a)
	for _, id := range a.IDs {
		if _, dup := r.byID[id]; !dup && len(r.byID) < maxIDs {
			r.byID[id] = a
		}
	}
	r.lastHit = nil
	r.route = computeRouting(r.attrs)
	if r.route.mixed {
		r.notice("mixed-ids", "its events keep their ids in different places, so records cannot be told apart; all are read as the first event's")
	}
	if r.defined {
		r.nameAttr(a)
		r.define(a)
	}
}

// routing says how a record names its event.
type routing struct {
	single *Attr // the only event, or the one every record is read as
	// idPos and isPos are the common positions of the id in samples and
	// in other records (see layout), -1 when records carry none.
	idPos, isPos int
	// trailerAttr is an attr whose trailer layout every attr shares, to
	// read the trailers of records whose id is unknown; nil if they differ.
	trailerAttr *Attr
	mixed       bool // the attrs disagree on where ids are
}

func computeRouting(attrs []*Attr) routing {
	rt := routing{idPos: -1, isPos: -1}
	if len(attrs) == 0 {
		return rt
	}
	first := attrs[0]
	rt.trailerAttr = first
	if len(attrs) == 1 {
		rt.single = first
		return rt
	}
	rt.idPos, rt.isPos = first.idPos, first.isPos
	for _, a := range attrs[1:] {
		if a.SampleIDAll != first.SampleIDAll || a.SampleType&sampleIDAllMask != first.SampleType&sampleIDAllMask {
			rt.trailerAttr = nil
		}
		if a.idPos != rt.idPos {
			rt.idPos = -1
		}
		if a.isPos != rt.isPos {
			rt.isPos = -1
		}
	}
	if rt.idPos < 0 {
		// Perf refuses to record events it cannot tell apart; a file
		// that has them was made by something else.
		rt.single, rt.mixed = first, true
	}
	return rt
}

// sampleAttr returns the event of a SAMPLE record, or nil.
func (r *Reader) sampleAttr(rec []byte) *Attr {
	if r.route.single != nil {
		return r.route.single
	}
	at := recHeaderSize + 8*r.route.idPos
	if r.route.idPos < 0 || len(rec) < at+8 {
		return nil
	}
	return r.attrByID(le.Uint64(rec[at:]))
}

// otherAttr returns the event whose sample_id_all trailer ends a
// non-sample record, or nil.
func (r *Reader) otherAttr(rec []byte) *Attr {
	if r.route.single != nil {
		return r.route.single
	}
	if r.route.isPos > 0 && len(rec) >= recHeaderSize+8*r.route.isPos {
		if a := r.attrByID(le.Uint64(rec[len(rec)-8*r.route.isPos:])); a != nil {
			return a
		}
	}
	// perf synthesizes process records with id 0; any event with the same
	// trailer reads them.
	return r.route.trailerAttr
}

func (r *Reader) attrByID(id uint64) *Attr {
	if r.lastHit != nil && id == r.lastID {
		return r.lastHit
	}
	a := r.byID[id]
	if a != nil {
		r.lastID, r.lastHit = id, a
	}
	return a
}
