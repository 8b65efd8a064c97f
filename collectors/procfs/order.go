package procfs

import (
	"cmp"
	"slices"
)

// parentsFirst orders processes so that each comes after its parent when
// the parent is among them, and otherwise by pid: a depth-first walk from
// the processes whose parent is absent, children in pid order. pid order
// alone is not enough, since pids wrap around and a parent may have a
// larger pid than its child.
func parentsFirst(procs []stat) []stat {
	slices.SortFunc(procs, func(a, b stat) int { return cmp.Compare(a.PID, b.PID) })
	index := make(map[int32]int, len(procs))
	for i := range procs {
		index[procs[i].PID] = i
	}
	children := make([][]int, len(procs))
	isRoot := make([]bool, len(procs))
	for i := range procs {
		p, ok := index[procs[i].PPID]
		if !ok || p == i {
			isRoot[i] = true
			continue
		}
		children[p] = append(children[p], i)
	}
	out := make([]stat, 0, len(procs))
	done := make([]bool, len(procs))
	var stack []int
	walk := func(root int) {
		stack = append(stack[:0], root)
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if done[i] {
				continue
			}
			done[i] = true
			out = append(out, procs[i])
			for _, c := range slices.Backward(children[i]) {
				stack = append(stack, c)
			}
		}
	}
	for i := range procs {
		if isRoot[i] {
			walk(i)
		}
	}
	// Only a cycle of parents, which a consistent /proc cannot show, is
	// left; start it at its smallest pid.
	for i := range procs {
		if !done[i] {
			walk(i)
		}
	}
	return out
}
