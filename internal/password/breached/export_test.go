package breached

// Data is the embedded list, for the benchmarks of build.
var Data = data

// Build exposes build to the external tests.
func Build(gz []byte) (n int, err error) {
	t, err := build(gz)
	if err != nil {
		return 0, err
	}
	return len(t.hashes), nil
}
