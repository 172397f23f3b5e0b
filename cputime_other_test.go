//go:build !unix

// cpuTime, for the benchmarks that report the CPU a call costs, where the system has it.

package loyalty

import "time"

// cpuTime is not measured here: cpu-ns/op reads 0 where getrusage does not exist.
func cpuTime() time.Duration { return 0 }
