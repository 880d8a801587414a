package main

import (
	"testing"

	"github.com/authd/authd/examples/internal/service/servicetest"
	"github.com/authd/authd/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// TestService runs the example's own wiring against a fake authd over
// loopback and the real Redis denylist.
func TestService(t *testing.T) {
	client, prefix := testenv.Redis(t)
	servicetest.Check(t, routes, servicetest.Redis{URL: testenv.RedisURL(), Client: client, Prefix: prefix})
}

// TestServiceTopologies: the example reads the cluster and sentinel forms
// of AUTHD_REDIS_URL and refuses a token authd revoked there, with either
// key layout.
func TestServiceTopologies(t *testing.T) {
	cluster := testenv.RedisCluster(t)
	sentinel := testenv.RedisSentinel(t)
	for _, tc := range []struct {
		name   string
		url    string
		client redis.UniversalClient
	}{
		{"cluster", cluster.URL, cluster.Client(t)},
		{"sentinel", sentinel.URL, sentinel.Client(t)},
	} {
		for _, layout := range []string{"v1+v2", "v2"} {
			t.Run(tc.name+"/"+layout, func(t *testing.T) {
				servicetest.Check(t, routes, servicetest.Redis{URL: tc.url, Client: tc.client, Prefix: testenv.RandomName("authdtest:") + ":", Layout: layout})
			})
		}
	}
}
