// Package memtest measures what a reader allocates, for the tests that
// hold relpack's readers to memory linear in their input (docs/fuzzing.md).
// Allocations are counted, not timed: the count is the same on a loaded
// machine.
package memtest

import "runtime"

// Allocated is how many bytes f allocates on the heap
// (runtime.MemStats.TotalAlloc): what a reader costs, whatever the garbage
// collector gives back meanwhile.
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
