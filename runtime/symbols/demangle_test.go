package symbols

import "testing"

func TestDemangleName(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"a C++ method in nested namespaces loses its parameters", "_ZN3geo6shapes6Widget4spinEi", "geo::shapes::Widget::spin"},
		{"a C++ template keeps its arguments", "_ZNSt6vectorIiSaIiEE9push_backERKi", "std::vector<int, std::allocator<int> >::push_back"},
		{"a C++ cold clone names its function", "_Z3fooi.cold", "foo"},
		{"a C++ vtable reads as one", "_ZTV3Foo", "vtable for Foo"},
		{"a legacy Rust symbol drops its hash", "_ZN4core3fmt5write17h5e8a3f2b1c4d6e7fE", "core::fmt::write"},
		{"a legacy Rust symbol with a regular-looking hash still drops it", "_ZN3foo3bar17h0000000000000000E", "foo::bar"},
		{"a legacy Rust trait impl unescapes", "_ZN65$LT$alloc..vec..Vec$LT$T$GT$$u20$as$u20$core..ops..drop..Drop$GT$4drop17h1f1e3d7c0e9b8a6fE", "<alloc::vec::Vec<T> as core::ops::drop::Drop>::drop"},
		{"a Rust v0 path", "_RNvNtCs1234_7mycrate3foo3bar", "mycrate::foo::bar"},
		{"a Rust v0 crate with a leading digit", "_RNvC6_123foo3bar", "123foo::bar"},
		{"a Rust v0 generic", "_RINvNtC3std3mem8align_ofdE", "std::mem::align_of::<f64>"},
		{"a Go name stays as Go prints it", "main.(*T).Method", "main.(*T).Method"},
		{"a C name stays", "malloc", "malloc"},
		{"a broken C++ name stays raw", "_Zfoo", "_Zfoo"},
		{"a broken Rust v0 name stays raw", "_RNvC", "_RNvC"},
		{"a GCC static constructor stays raw", "_GLOBAL__sub_I_main", "_GLOBAL__sub_I_main"},
		{"an empty name stays empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := demangleName(tc.in); got != tc.want {
				t.Errorf("demangleName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
