package loyalty

import (
	"testing"
	_ "time/tzdata" // TZ=Pacific/Kiritimati works on a machine without zone files (CI sets it)

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any of them leaves a goroutine behind: a retry
// abandoned mid-wait, an iterator stopped by break, a connection never released.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
