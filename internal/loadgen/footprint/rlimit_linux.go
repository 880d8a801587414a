package footprint

import (
	"fmt"
	"syscall"
)

// raiseOpenFiles makes sure this process may hold need open files, raising
// its soft RLIMIT_NOFILE up to the hard limit if it is lower. (Go already
// does that at start since 1.19; this turns a shortfall into a clear error
// rather than "too many open files" in the middle of the load.)
func raiseOpenFiles(need uint64) error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fmt.Errorf("open-files limit: %w", err)
	}
	if l.Cur >= need {
		return nil
	}
	if l.Max < need {
		return fmt.Errorf("open-files limit: %d needed, hard limit %d (raise ulimit -Hn)", need, l.Max)
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fmt.Errorf("open-files limit: raise to %d: %w", l.Max, err)
	}
	return nil
}
