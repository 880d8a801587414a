package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is Linux's USER_HZ, the unit of /proc CPU times: 100 on every
// architecture Go supports.
const clockTick = 10 * time.Millisecond

// CPUUsage is where the machine's CPU time went during a phase, in cores
// (CPU seconds per second), read from /proc on Linux. Other is what was
// neither the server nor the load tool: other processes, and the
// Postgres and Redis the server uses.
type CPUUsage struct {
	Machine float64 `json:"machine_cores"`
	Server  float64 `json:"server_cores,omitempty"`
	Self    float64 `json:"authbench_cores"`
	Other   float64 `json:"other_cores"`
	Steal   float64 `json:"steal_cores"`
	// ServerPerRequest is the server's CPU time per successful request
	// (0 without a server pid).
	ServerPerRequest time.Duration `json:"server_cpu_per_request_ns,omitempty"`
}

// CPUSample is a reading of the machine's, this process's and a server's
// CPU counters; CPUBetween turns two into a CPUUsage.
type CPUSample = cpuSample

// ReadCPU reads the counters; pid is the server's (0: none).
func ReadCPU(pid int) CPUSample { return readCPU(pid) }

// CPUBetween returns the CPU used between two samples, or nil where /proc
// could not be read; requests (may be 0) gives ServerPerRequest.
func CPUBetween(a, b CPUSample, requests uint64) *CPUUsage { return usage(a, b, requests) }

// cpuSample is a reading of the CPU counters, in ticks.
type cpuSample struct {
	at             time.Time
	busy, steal    uint64
	self, server   uint64
	ok, haveServer bool
}

// readCPU reads the machine's, this process's and (pid > 0) the server's
// CPU times; ok is false where /proc is not there.
func readCPU(pid int) cpuSample {
	s := cpuSample{at: time.Now()}
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return s
	}
	var v [8]uint64
	for i := range v {
		v[i], _ = strconv.ParseUint(f[i+1], 10, 64)
	}
	// user nice system idle iowait irq softirq steal
	s.busy = v[0] + v[1] + v[2] + v[5] + v[6]
	s.steal = v[7]
	if s.self, err = procTicks("self"); err != nil {
		return s
	}
	s.ok = true
	if pid > 0 {
		if t, err := procTicks(strconv.Itoa(pid)); err == nil {
			s.server, s.haveServer = t, true
		}
	}
	return s
}

// procTicks returns utime+stime of /proc/<pid>/stat (every thread).
func procTicks(pid string) (uint64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; fields resume after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%s/stat: no ')'", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%s/stat: %d fields", pid, len(f))
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%s/stat: bad times", pid)
	}
	return u + s, nil
}

// usage returns the CPU used between a and b, or nil if either reading
// failed; requests is the count of successful requests in between.
func usage(a, b cpuSample, requests uint64) *CPUUsage {
	if !a.ok || !b.ok {
		return nil
	}
	secs := b.at.Sub(a.at).Seconds()
	if secs <= 0 {
		return nil
	}
	cores := func(t0, t1 uint64) float64 {
		if t1 < t0 {
			return 0
		}
		return float64(t1-t0) * clockTick.Seconds() / secs
	}
	u := &CPUUsage{Machine: cores(a.busy, b.busy), Self: cores(a.self, b.self), Steal: cores(a.steal, b.steal)}
	if a.haveServer && b.haveServer {
		u.Server = cores(a.server, b.server)
		if requests > 0 {
			u.ServerPerRequest = time.Duration(float64(b.server-a.server) * float64(clockTick) / float64(requests))
		}
	}
	u.Other = max(u.Machine-u.Server-u.Self, 0)
	return u
}
