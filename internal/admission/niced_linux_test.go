package admission

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// threadNice returns the calling thread's nice value. The raw syscall
// answers 20 - nice, so that it is never negative.
func threadNice(t *testing.T) int {
	t.Helper()
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	return 20 - prio
}

func TestNicedPoolRunsOnLowPriorityThreads(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	base := threadNice(t)
	procs := runtime.GOMAXPROCS(0)
	p, err := NewNicedPool(2, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	// Both workers run at once (each waits for the other), on threads at
	// nice 10, while the caller's thread keeps its priority.
	var (
		wg      sync.WaitGroup
		arrived sync.WaitGroup
		checked sync.WaitGroup
		mu      sync.Mutex
		nices   []int
		tids    = map[int]bool{}
	)
	arrived.Add(2)
	checked.Add(2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Run(func() {
				arrived.Done()
				waitOrFail(t, &arrived)
				n := threadNice(t)
				if got := runtime.GOMAXPROCS(0); got != procs+2 {
					t.Errorf("GOMAXPROCS %d while both workers run, want %d", got, procs+2)
				}
				// Neither returns (and gives its P back) before both read.
				checked.Done()
				waitOrFail(t, &checked)
				mu.Lock()
				nices = append(nices, n)
				tids[unix.Gettid()] = true
				mu.Unlock()
			})
		}()
	}
	wg.Wait()
	if len(nices) != 2 || nices[0] != 10 || nices[1] != 10 || len(tids) != 2 {
		t.Fatalf("workers ran at nice %v on %d threads, want 10 on 2", nices, len(tids))
	}
	if got := threadNice(t); got != base {
		t.Fatalf("caller's thread went from nice %d to %d", base, got)
	}
	// Both Ps are back once both functions have returned.
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Fatalf("GOMAXPROCS %d after the workers are done, want the default %d again", got, procs)
	}
	if p.Workers() != 2 {
		t.Fatalf("Workers() = %d", p.Workers())
	}
}

// waitOrFail waits for wg, failing the test after a few seconds instead of
// hanging it.
func waitOrFail(t *testing.T, wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("the pool's workers did not run concurrently")
	}
}

func TestNewNicedPoolRefusesBadArguments(t *testing.T) {
	for _, tc := range []struct{ workers, nice int }{{0, 10}, {2, 0}, {2, 20}, {2, -5}} {
		if p, err := NewNicedPool(tc.workers, tc.nice); err == nil {
			p.Close()
			t.Errorf("NewNicedPool(%d, %d) accepted", tc.workers, tc.nice)
		}
	}
}

// Close waits for a running function and then ends the workers.
func TestNicedPoolCloseWaitsForRunningWork(t *testing.T) {
	p, err := NewNicedPool(1, 5)
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	finished := make(chan struct{})
	go func() {
		p.Run(func() { close(started); <-release })
		close(finished)
	}()
	<-started
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while a function was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-finished
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return after the work finished")
	}
}

// No worker ever lowers the main thread: the process would look niced and
// the thread would be parked for good when the worker ends. Many workers
// make landing there likely without the hand-over in work.
func TestNicedPoolLeavesTheMainThreadAlone(t *testing.T) {
	mainNice := func() int {
		prio, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		return 20 - prio
	}
	base := mainNice()
	var pools []*NicedPool
	for range 8 {
		p, err := NewNicedPool(4*runtime.GOMAXPROCS(0), 7)
		if err != nil {
			t.Fatal(err)
		}
		pools = append(pools, p)
		var wg sync.WaitGroup
		for range p.Workers() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.Run(func() {
					if unix.Gettid() == unix.Getpid() {
						t.Error("a worker runs on the main thread")
					}
				})
			}()
		}
		wg.Wait()
	}
	for _, p := range pools {
		p.Close()
	}
	if got := mainNice(); got != base {
		t.Fatalf("the main thread went from nice %d to %d", base, got)
	}
}

// Each pool function runs with one more P than the runtime's default, two
// running at once with two more, and once none runs GOMAXPROCS is the
// default again (runtime.SetDefaultGOMAXPROCS, so the runtime's automatic
// updates from the CPU limit are on again).
func TestNicedPoolLendsAPPerFunction(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	p, err := NewNicedPool(2, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	seen := map[int]int{}
	for range 20 { // one after the other, as a queue of logins runs
		p.Run(func() { seen[runtime.GOMAXPROCS(0)]++ })
		if got := runtime.GOMAXPROCS(0); got != procs {
			t.Fatalf("GOMAXPROCS %d after a function returned, want the default %d", got, procs)
		}
	}
	if seen[procs+1] != 20 {
		t.Fatalf("GOMAXPROCS seen inside the functions: %v, want %d every time", seen, procs+1)
	}

	first, release := make(chan struct{}), make(chan struct{})
	go p.Run(func() { close(first); <-release })
	<-first
	var during int
	p.Run(func() { during = runtime.GOMAXPROCS(0) })
	if during != procs+2 {
		t.Errorf("GOMAXPROCS %d with two functions running, want %d", during, procs+2)
	}
	if got := runtime.GOMAXPROCS(0); got != procs+1 {
		t.Errorf("GOMAXPROCS %d with one function still running, want %d", got, procs+1)
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for runtime.GOMAXPROCS(0) != procs && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // the first Run returns on its own goroutine
	}
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Fatalf("GOMAXPROCS %d once none runs, want the default %d", got, procs)
	}
}
