// Package ferrettest runs authd's store conformance suite (storetest)
// against mongostore on a real MongoDB-protocol server: FerretDB v1.24.2
// embedded in the test process on its SQLite backend, or the MongoDB named
// by AUTHD_TEST_MONGODB_URL. It is a Go module of its own so that FerretDB
// and its dependencies never enter authd's build. It holds tests only.
package ferrettest
