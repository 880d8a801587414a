package main

import (
	"testing"

	"github.com/authd/authd/examples/internal/service/servicetest"
	"github.com/authd/authd/internal/testenv"
)

// TestService runs the example's own wiring against a fake authd over
// loopback and the real Redis denylist.
func TestService(t *testing.T) {
	client, prefix := testenv.Redis(t)
	servicetest.Check(t, routes, servicetest.Redis{URL: testenv.RedisURL(), Client: client, Prefix: prefix})
}
