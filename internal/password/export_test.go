package password

// WithObserver calls f before every bcrypt comparison of the Hasher, so
// that tests count the work an input costs.
func WithObserver(f func()) HasherOption { return func(h *Hasher) { h.observe = f } }
