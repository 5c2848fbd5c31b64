package main

import (
	"strings"
	"testing"
	"time"
)

func TestCPUReadings(t *testing.T) {
	metrics := "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n" +
		"# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 26.79\ngo_goroutines 19\n"
	if got := processCPU(strings.NewReader(metrics)); got != 26790*time.Millisecond {
		t.Errorf("processCPU = %v", got)
	}
	if got := processCPU(strings.NewReader("go_goroutines 19\n")); got != -1 {
		t.Errorf("processCPU without the metric = %v", got)
	}
	stat := "cpu  100 5 50 9000 40 3 2 1 0 0\ncpu0 50 2 25 4500 20 1 1 0 0 0\n"
	if got := machineCPU([]byte(stat)); got != 1610*time.Millisecond { // (100+5+50+3+2+1) ticks of 10ms
		t.Errorf("machineCPU = %v", got)
	}
	if got := machineCPU([]byte("intr 1 2 3\n")); got != -1 {
		t.Errorf("machineCPU of garbage = %v", got)
	}
	a := cpuSample{server: 1 * time.Second, tool: 2 * time.Second, machine: 10 * time.Second}
	b := cpuSample{server: 3 * time.Second, tool: 3 * time.Second, machine: 14 * time.Second}
	c := splitCPU(a, b, 2*time.Second)
	if c.server != 1 || c.tool != 0.5 || c.other != 0.5 {
		t.Errorf("split %+v", c)
	}
	if c := splitCPU(cpuSample{server: -1, tool: 0, machine: 0}, b, time.Second); c.server != -1 || c.other != -1 {
		t.Errorf("split with an unknown part %+v", c)
	}
}
