// Package e2e holds authd's end-to-end tests: a real server on a loopback
// port (and, in binary_test.go, the real built binary) driven over HTTP, on
// the embedded default and on Postgres + Redis.
package e2e
