//go:build unix

package main

import (
	"errors"
	"syscall"
)

// processAlive reports whether a process with this id runs. A process of another user is
// alive too (EPERM). A reused id reads as alive: the claim then waits out its hold, the safe
// way to be wrong.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
