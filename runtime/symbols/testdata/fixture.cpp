// A C++ target for the demangling tests: a method in nested namespaces
// and a function template.
#include <cstdio>

namespace geo {
namespace shapes {
struct Widget {
	int spin(int n);
};

__attribute__((noinline)) int Widget::spin(int n) {
	volatile int s = 0;
	for (int i = 0; i < n; i++)
		s += i;
	return s;
}

template <typename T> __attribute__((noinline)) T twice(T v) {
	return v + v;
}
} // namespace shapes
} // namespace geo

int main() {
	geo::shapes::Widget w;
	std::printf("%d\n", w.spin(3) + geo::shapes::twice<int>(2));
	return 0;
}
