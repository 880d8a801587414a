package footprint

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Memory is a process's resident memory, from /proc/PID/status, in bytes.
type Memory struct {
	// RSS is VmRSS: the resident set now.
	RSS int64 `json:"rss_bytes"`
	// HWM is VmHWM: the largest resident set the process ever had.
	HWM int64 `json:"hwm_bytes"`
	// Anon and File split RSS into anonymous memory (Go heap, stacks,
	// runtime) and file pages (mostly the binary's code and data).
	Anon int64 `json:"rss_anon_bytes"`
	File int64 `json:"rss_file_bytes"`
}

// readMemory reads pid's memory from /proc (Linux only).
func readMemory(pid int) (Memory, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return Memory{}, fmt.Errorf("read memory of pid %d (Linux /proc needed): %w", pid, err)
	}
	return parseStatus(b)
}

// parseStatus reads the memory lines of a /proc/PID/status file.
func parseStatus(b []byte) (Memory, error) {
	var m Memory
	fields := map[string]*int64{"VmRSS": &m.RSS, "VmHWM": &m.HWM, "RssAnon": &m.Anon, "RssFile": &m.File}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		p := fields[name]
		if !ok || p == nil {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("status line %q: want a size in kB", sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("status line %q: %w", sc.Text(), err)
		}
		*p = kb * 1024
	}
	if m.RSS == 0 {
		return m, errors.New("status has no VmRSS")
	}
	return m, nil
}

// openFiles counts pid's open file descriptors (its connections among
// them).
func openFiles(pid int) (int, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	return len(names), err
}

// openFilesLimit returns pid's soft limit on open files (RLIMIT_NOFILE),
// -1 for unlimited.
func openFilesLimit(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/limits")
	if err != nil {
		return 0, err
	}
	return parseOpenFilesLimit(b)
}

// parseOpenFilesLimit reads the soft limit of the "Max open files" line of
// a /proc/PID/limits file.
func parseOpenFilesLimit(b []byte) (int64, error) {
	const name = "Max open files"
	for line := range strings.Lines(string(b)) {
		rest, ok := strings.CutPrefix(line, name)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		if f[0] == "unlimited" {
			return -1, nil
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, errors.New("limits have no " + name + " line")
}
