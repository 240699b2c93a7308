package transport

import (
	"syscall"
	"testing"
	"time"
)

// processCPU returns the user+system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter reports cpu-ns/op next to ns/op: on a shared, busy machine the
// wall time per op includes waiting for a core, the CPU time does not.
type cpuMeter struct {
	b     *testing.B
	start time.Duration
}

func startCPU(b *testing.B) cpuMeter { return cpuMeter{b: b, start: processCPU()} }

func (m cpuMeter) report() {
	if n := m.b.N; n > 0 {
		m.b.ReportMetric(float64(processCPU()-m.start)/float64(n), "cpu-ns/op")
	}
}
