package admission

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// NicedPool runs functions on a fixed set of goroutines, each locked to an
// OS thread of its own whose scheduling priority was lowered (a higher nice
// value). Work run there takes only the CPU time that normal threads leave:
// bcrypt on every core when logins are all there is, yet out of the way of
// a verification that wakes up on one of them.
//
// The Go scheduler does not know about priorities: a pool worker holds a P
// while it runs, and a goroutine waiting for a P waits for the runtime to
// preempt it (a scheduler time slice). So Run lends the process a P for as
// long as its function runs: GOMAXPROCS is the runtime's default plus the
// functions running now, and when none runs it goes back through
// runtime.SetDefaultGOMAXPROCS, which turns the runtime's automatic updates
// from the CPU limit back on (setting GOMAXPROCS turns them off). So
// between logins authd follows its container's CPU quota, and a change of
// the quota during a bcrypt takes effect when it ends.
//
// Two designs that change GOMAXPROCS less often were measured and left
// (docs/benchmarks.md, "Figures behind design choices"): keeping the Ps
// raised for good costs every request (with more Ps than CPUs the scheduler
// wakes idle threads on every ready goroutine), and keeping them lent for a
// whole burst of logins made verification during a login flood several
// times slower at p99 and overflowed the bcrypt queue. A change stops the
// world for microseconds, twice per bcrypt, which takes a quarter of a
// second.
//
// Lowering a thread's own priority needs no privilege. It is implemented
// on Linux, where every thread has its own nice value; NewNicedPool fails
// elsewhere (errors.ErrUnsupported) and wherever the kernel refuses.
type NicedPool struct {
	jobs    chan func()
	workers int
	stop    sync.Once
	done    sync.WaitGroup
}

// NewNicedPool starts workers goroutines on threads at the given nice
// value (1 to 19). It returns once every thread is set up, or an error
// after stopping those that were.
func NewNicedPool(workers, nice int) (*NicedPool, error) {
	if workers < 1 {
		return nil, fmt.Errorf("admission: a niced pool needs at least one worker, not %d", workers)
	}
	if nice < 1 || nice > 19 {
		return nil, fmt.Errorf("admission: nice value %d is outside 1..19", nice)
	}
	p := &NicedPool{jobs: make(chan func()), workers: workers}
	ready := make(chan error, workers)
	for range workers {
		p.done.Add(1)
		go p.work(nice, ready)
	}
	var errs []error
	for range workers {
		if err := <-ready; err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		p.Close()
		return nil, fmt.Errorf("admission: lower the priority of bcrypt threads: %w", errors.Join(errs...))
	}
	return p, nil
}

// work is one worker. Its thread keeps the lowered priority for good: a
// process may not raise it back without privilege, so the goroutine never
// unlocks the thread, and the runtime discards the thread when the
// goroutine ends.
func (p *NicedPool) work(nice int, ready chan<- error) {
	runtime.LockOSThread()
	if onMainThread() {
		// The main thread would show the whole process as niced and, when
		// the worker ends, be parked for good rather than ended. Hand the
		// work to a new goroutine, which cannot land on this thread while
		// this one holds it, and let go of the thread once it has its own.
		locked := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			close(locked)
			p.serve(nice, ready)
		}()
		<-locked
		runtime.UnlockOSThread()
		return
	}
	p.serve(nice, ready)
}

// serve lowers the priority of the calling goroutine's locked thread and
// runs jobs until the pool closes.
func (p *NicedPool) serve(nice int, ready chan<- error) {
	defer p.done.Done()
	if err := lowerThreadPriority(nice); err != nil {
		ready <- err
		return
	}
	ready <- nil
	for f := range p.jobs {
		f()
	}
}

// Workers returns the number of worker threads.
func (p *NicedPool) Workers() int { return p.workers }

// Run runs f on a pool thread and returns when f has returned. It waits
// for a free worker; callers bound by a Gate with Workers slots never wait.
// Run after Close panics.
func (p *NicedPool) Run(f func()) {
	done := make(chan struct{})
	p.jobs <- func() {
		defer close(done)
		lendP()
		defer returnP()
		f()
	}
	<-done
}

// lent counts the Ps lent to pool functions running now, in every pool of
// the process: GOMAXPROCS is process-wide, so the count is too.
var lent struct {
	sync.Mutex
	running int
	base    int // the runtime's default GOMAXPROCS, read when the first starts
}

// lendP raises GOMAXPROCS by one for a pool function about to run.
func lendP() {
	lent.Lock()
	defer lent.Unlock()
	if lent.running == 0 {
		lent.base = runtime.GOMAXPROCS(0)
	}
	lent.running++
	runtime.GOMAXPROCS(lent.base + lent.running)
}

// returnP gives back the P of a pool function that returned; the last one
// hands GOMAXPROCS back to the runtime's default and automatic updates.
func returnP() {
	lent.Lock()
	defer lent.Unlock()
	lent.running--
	if lent.running > 0 {
		runtime.GOMAXPROCS(lent.base + lent.running)
		return
	}
	runtime.SetDefaultGOMAXPROCS()
}

// Close stops the workers once the running functions return; their
// threads end with them.
func (p *NicedPool) Close() {
	p.stop.Do(func() { close(p.jobs) })
	p.done.Wait()
}
