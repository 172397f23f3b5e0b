//go:build unix

// cpuTime, for the benchmarks that report the CPU a call costs, where the system has it.

package loyalty

import (
	"syscall"
	"time"
)

// cpuTime is this process's CPU time, user and system, for the benchmarks' cpu-ns/op.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
