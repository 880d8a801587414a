package footprint

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseStatus(t *testing.T) {
	status := "Name:\tauthd\nVmPeak:\t 1263456 kB\nVmHWM:\t   35468 kB\nVmRSS:\t   30000 kB\nRssAnon:\t   12000 kB\nRssFile:\t   18000 kB\nRssShmem:\t       0 kB\nThreads:\t7\n"
	m, err := parseStatus([]byte(status))
	if err != nil {
		t.Fatal(err)
	}
	want := Memory{RSS: 30000 << 10, HWM: 35468 << 10, Anon: 12000 << 10, File: 18000 << 10}
	if m != want {
		t.Fatalf("%+v, want %+v", m, want)
	}
	for _, bad := range []string{"Name:\tx\n", "VmRSS:\t12 MB\n", "VmRSS:\tlots kB\n"} {
		if _, err := parseStatus([]byte(bad)); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestReadMemoryOfSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	m, err := readMemory(os.Getpid())
	if err != nil || m.RSS <= 0 || m.HWM < m.RSS {
		t.Fatalf("%+v, %v", m, err)
	}
	n, err := openFiles(os.Getpid())
	if err != nil || n < 3 {
		t.Fatalf("open files %d, %v", n, err)
	}
	lim, err := openFilesLimit(os.Getpid())
	if err != nil || (lim >= 0 && lim < int64(n)) {
		t.Fatalf("limit %d, %v", lim, err)
	}
}

func TestParseOpenFilesLimit(t *testing.T) {
	limits := "Limit                     Soft Limit           Hard Limit           Units     \n" +
		"Max processes             95044                95044                processes \n" +
		"Max open files            1024                 524288               files     \n"
	if n, err := parseOpenFilesLimit([]byte(limits)); err != nil || n != 1024 {
		t.Fatalf("%d, %v", n, err)
	}
	if n, err := parseOpenFilesLimit([]byte(strings.Replace(limits, "1024 ", "unlimited ", 1))); err != nil || n != -1 {
		t.Fatalf("unlimited: %d, %v", n, err)
	}
	if _, err := parseOpenFilesLimit([]byte("Max processes 1 1 processes\n")); err == nil {
		t.Fatal("no line: accepted")
	}
}

func TestStartupMedian(t *testing.T) {
	var s Startup
	for _, ms := range []int{30, 10, 20} {
		s.add(time.Duration(ms) * time.Millisecond)
	}
	if s.Median != 20*time.Millisecond || s.Max != 30*time.Millisecond || len(s.Runs) != 3 || s.Runs[0] != 30*time.Millisecond {
		t.Fatalf("%+v", s)
	}
	s.add(40 * time.Millisecond)
	if s.Median != 25*time.Millisecond || s.Max != 40*time.Millisecond {
		t.Fatalf("even count: %+v", s)
	}
}

func TestWriteChecks(t *testing.T) {
	var b strings.Builder
	err := WriteChecks(&b, []Check{
		newCheck("idle RSS", 18.24, 30, "MB"),
		newCheck("first start, max", 450, 300, "ms"),
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 ||
		!strings.HasPrefix(lines[0], "idle RSS") || !strings.Contains(lines[0], "18.2 MB / limit 30 MB") || !strings.HasSuffix(lines[0], "= 0.61 (met)") ||
		!strings.Contains(lines[1], "450.0 ms / limit 300 ms") || !strings.HasSuffix(lines[1], "= 1.50 (above the limit)") {
		t.Fatalf("%q", b.String())
	}
}
