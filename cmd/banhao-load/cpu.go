package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// On a small machine the load tool and the server share the cores, and
// whatever else runs there takes from both: each phase reports how many
// cores the server, this tool and everything else used while it ran.

// cpuSample is the CPU time used so far by the server (its Prometheus
// process_cpu_seconds_total), this process and the whole machine
// (/proc/stat); a part that cannot be read is negative.
type cpuSample struct {
	server, tool, machine time.Duration
}

// cpuProbe reads cpuSamples; a nil probe reads nothing.
type cpuProbe struct {
	server *api // nil: the server's CPU is not read
}

func (p *cpuProbe) sample(ctx context.Context) cpuSample {
	s := cpuSample{server: -1, tool: -1, machine: -1}
	if p == nil {
		return s
	}
	if p.server != nil {
		s.server = serverCPU(ctx, p.server)
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.tool = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		s.machine = machineCPU(b)
	}
	return s
}

// cpuSplit is the cores used during a phase; negative when unknown.
type cpuSplit struct {
	server, tool, other float64
}

func splitCPU(a, b cpuSample, elapsed time.Duration) cpuSplit {
	cores := func(x, y time.Duration) float64 {
		if x < 0 || y < 0 {
			return -1
		}
		return float64(y-x) / float64(elapsed)
	}
	c := cpuSplit{server: cores(a.server, b.server), tool: cores(a.tool, b.tool), other: -1}
	if m := cores(a.machine, b.machine); m >= 0 && c.server >= 0 && c.tool >= 0 {
		c.other = max(0, m-c.server-c.tool)
	}
	return c
}

func (c cpuSplit) String() string {
	f := func(v float64) string {
		if v < 0 {
			return "?"
		}
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return fmt.Sprintf("server %s, load tool %s, other %s of %d cores", f(c.server), f(c.tool), f(c.other), runtime.NumCPU())
}

// serverCPU reads the server's CPU time from its metrics, -1 if it cannot.
func serverCPU(ctx context.Context, a *api) time.Duration {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/metrics", nil)
	if err != nil {
		return -1
	}
	res, err := a.hc.Do(req)
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return -1
	}
	return processCPU(res.Body)
}

// processCPU finds process_cpu_seconds_total in a Prometheus text
// exposition, -1 if absent.
func processCPU(r io.Reader) time.Duration {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "process_cpu_seconds_total ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return -1
		}
		return time.Duration(f * float64(time.Second))
	}
	return -1
}

// machineCPU is the busy time of all CPUs from /proc/stat's first line
// (user, nice, system, irq, softirq, steal), -1 if unreadable.
func machineCPU(stat []byte) time.Duration {
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return -1
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return -1
		}
		busy += n
	}
	// USER_HZ is 100 on every Linux build that matters here.
	return time.Duration(busy) * 10 * time.Millisecond
}
