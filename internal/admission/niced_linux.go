package admission

import "golang.org/x/sys/unix"

// lowerThreadPriority sets the calling thread's nice value: on Linux,
// PRIO_PROCESS with a thread id applies to that thread alone.
func lowerThreadPriority(nice int) error {
	return unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), nice)
}

// onMainThread reports whether the calling thread is the process's main
// thread (whose id is the process id).
func onMainThread() bool { return unix.Gettid() == unix.Getpid() }
