package eventobj

import (
	"github.com/d5/tengo/v2"
)

// maxInterned bounds the string table; past it, strings are allocated.
const maxInterned = 1 << 16

// maxInternLen is the longest string worth interning.
const maxInternLen = 256

// smallInts are cached; the VM never mutates an Int, so sharing is safe.
const smallIntMax = 1024

// Values hands out Tengo values for decoded fields without allocating for
// repeated strings and small integers. It belongs to the dispatch goroutine.
type Values struct {
	strs map[string]*tengo.String
	ints [smallIntMax + 1]tengo.Int
}

// NewValues returns an empty table.
func NewValues() *Values {
	v := &Values{strs: make(map[string]*tengo.String)}
	for i := range v.ints {
		v.ints[i].Value = int64(i)
	}
	return v
}

// Str returns b as a Tengo string, interned when short.
func (v *Values) Str(b []byte) *tengo.String {
	if s, ok := v.strs[string(b)]; ok {
		return s
	}
	s := &tengo.String{Value: string(b)}
	if len(b) <= maxInternLen && len(v.strs) < maxInterned {
		v.strs[s.Value] = s
	}
	return s
}

// String returns s as a Tengo string, interned when short.
func (v *Values) String(s string) *tengo.String {
	if o, ok := v.strs[s]; ok {
		return o
	}
	o := &tengo.String{Value: s}
	if len(s) <= maxInternLen && len(v.strs) < maxInterned {
		v.strs[s] = o
	}
	return o
}

// Int returns n as a Tengo int.
func (v *Values) Int(n int64) *tengo.Int {
	if n >= 0 && n <= smallIntMax {
		return &v.ints[n]
	}
	return &tengo.Int{Value: n}
}
