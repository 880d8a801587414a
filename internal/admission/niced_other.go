//go:build !linux

package admission

import "errors"

// lowerThreadPriority is not implemented: outside Linux a nice value
// belongs to the whole process, not to one thread.
func lowerThreadPriority(int) error { return errors.ErrUnsupported }

// onMainThread is never true where threads are not niced.
func onMainThread() bool { return false }
