// Package eventobj owns the Tengo value a handler receives as its event:
// one object per event kind, re-pointed at each record and decoding fields
// only when the script reads them, and the interning of the strings and
// small integers it hands out so that reading a field allocates nothing in
// the common cases.
package eventobj
