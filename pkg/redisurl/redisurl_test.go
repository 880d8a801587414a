package redisurl_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/pkg/redisurl"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  string
		want redisurl.Config // compared field by field; single is not
		err  string          // substring of the error; "" = no error
	}{
		{name: "one server", url: "redis://127.0.0.1:6379/2",
			want: redisurl.Config{Topology: redisurl.Single, Addrs: []string{"127.0.0.1:6379"}, DB: 2}},
		{name: "one server with password", url: "redis://:pw@localhost:6380",
			want: redisurl.Config{Topology: redisurl.Single, Addrs: []string{"localhost:6380"}, Password: "pw"}},
		{name: "one server over TLS", url: "rediss://user:pw@redis.example.com:6380/0",
			want: redisurl.Config{Topology: redisurl.Single, Addrs: []string{"redis.example.com:6380"}, Username: "user", Password: "pw", TLS: true}},
		{name: "cluster", url: "redis+cluster://10.0.0.1:7000,10.0.0.2:7001,[::1]:7002",
			want: redisurl.Config{Topology: redisurl.Cluster, Addrs: []string{"10.0.0.1:7000", "10.0.0.2:7001", "[::1]:7002"}}},
		{name: "cluster with credentials and TLS", url: "redis+cluster://authd:p%40ss%2Fw@h1:7000,h2:7000?tls=true",
			want: redisurl.Config{Topology: redisurl.Cluster, Addrs: []string{"h1:7000", "h2:7000"}, Username: "authd", Password: "p@ss/w", TLS: true}},
		{name: "cluster, password with raw @ and /", url: "redis+cluster://:a@b/c@h1:7000",
			want: redisurl.Config{Topology: redisurl.Cluster, Addrs: []string{"h1:7000"}, Password: "a@b/c"}},
		{name: "cluster, tls=false", url: "redis+cluster://h1:7000?tls=false",
			want: redisurl.Config{Topology: redisurl.Cluster, Addrs: []string{"h1:7000"}}},
		{name: "sentinel", url: "redis+sentinel://s1:26379,s2:26379,s3:26379/mymaster",
			want: redisurl.Config{Topology: redisurl.Sentinel, Addrs: []string{"s1:26379", "s2:26379", "s3:26379"}, MasterName: "mymaster"}},
		{name: "sentinel with db and password", url: "redis+sentinel://:pw@s1:26379/mymaster/3",
			want: redisurl.Config{Topology: redisurl.Sentinel, Addrs: []string{"s1:26379"}, MasterName: "mymaster", DB: 3, Password: "pw"}},

		{name: "empty", url: "", err: "no scheme"},
		{name: "no scheme", url: "localhost:6379", err: "no scheme"},
		{name: "unknown scheme", url: "memcached://h:1", err: "unknown scheme"},
		{name: "bad one-server URL", url: "redis://h:notaport", err: "not a valid redis:// URL"},
		{name: "cluster without hosts", url: "redis+cluster://", err: "no host:port"},
		{name: "cluster host without port", url: "redis+cluster://h1:7000,h2", err: `"h2" is not host:port`},
		{name: "cluster port out of range", url: "redis+cluster://h1:70000", err: "port must be 1 to 65535"},
		{name: "cluster empty element", url: "redis+cluster://h1:7000,,h2:7000", err: `"" is not host:port`},
		{name: "cluster with a path", url: "redis+cluster://h1:7000/1", err: "has no path"},
		{name: "cluster unknown option", url: "redis+cluster://h1:7000?db=1", err: `unknown option "db"`},
		{name: "cluster bad tls", url: "redis+cluster://h1:7000?tls=yes", err: "tls must be true or false"},
		{name: "sentinel without master", url: "redis+sentinel://s1:26379", err: "needs /MASTER_NAME"},
		{name: "sentinel empty master", url: "redis+sentinel://s1:26379/", err: "needs /MASTER_NAME"},
		{name: "sentinel bad db", url: "redis+sentinel://s1:26379/m/x", err: "must be a number"},
		{name: "sentinel db with more path", url: "redis+sentinel://s1:26379/m/1/2", err: "must be a number"},
		{name: "fragment", url: "redis+cluster://h1:7000?tls=true#x", err: "fragment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := redisurl.Parse(tc.url)
			if tc.err != "" {
				if err == nil || !errors.Is(err, redisurl.ErrInvalid) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Parse(%q) = %v, want ErrInvalid with %q", tc.url, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.url, err)
			}
			if got.Topology != tc.want.Topology || !slices.Equal(got.Addrs, tc.want.Addrs) || got.MasterName != tc.want.MasterName ||
				got.DB != tc.want.DB || got.Username != tc.want.Username || got.Password != tc.want.Password || got.TLS != tc.want.TLS {
				t.Errorf("Parse(%q) = %+v, want %+v", tc.url, *got, tc.want)
			}
			if tc.want.Password != "" && strings.Contains(got.String(), tc.want.Password) {
				t.Errorf("String() = %q shows the password", got.String())
			}
		})
	}
}

// TestParseNeverEchoesPassword: whatever is wrong, the error does not
// contain the password.
func TestParseNeverEchoesPassword(t *testing.T) {
	for _, u := range []string{
		"redis://:s3cret@h:notaport",
		"redis+cluster://u:s3cret@h1",
		"redis+cluster://u:s3cret@h1:7000?x=1",
		"redis+sentinel://u:s3cret@s1:1",
		"redis+sentinel://u:s3cret@s1:1/m/x",
		"redis+cluster://u:s3cret%zz@h1:1",
	} {
		if _, err := redisurl.Parse(u); err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Parse(%q) = %v, want an error without the password", u, err)
		}
	}
}

func TestNewClient(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want string
	}{
		{"redis://127.0.0.1:1/0", "*redis.Client"},
		{"redis+cluster://127.0.0.1:1,127.0.0.1:2", "*redis.ClusterClient"},
		{"redis+sentinel://127.0.0.1:1/m", "*redis.Client"},
	} {
		cfg, err := redisurl.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		c := cfg.NewClient(redisurl.ClientOptions{})
		var got string
		switch c.(type) {
		case *redis.ClusterClient:
			got = "*redis.ClusterClient"
		case *redis.Client:
			got = "*redis.Client"
		}
		c.Close()
		if got != tc.want {
			t.Errorf("NewClient(%s) = %T, want %s", tc.url, c, tc.want)
		}
	}
}

// TestNewClientTimeouts: ClientOptions fill the timeouts a redis:// URL
// leaves unset, and never override one it sets.
func TestNewClientTimeouts(t *testing.T) {
	o := redisurl.ClientOptions{DialTimeout: 2 * time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second}
	for _, tc := range []struct {
		url        string
		dial, read time.Duration
	}{
		{"redis://127.0.0.1:1/0", 2 * time.Second, time.Second},
		{"redis://127.0.0.1:1/0?dial_timeout=3s&read_timeout=500ms", 3 * time.Second, 500 * time.Millisecond},
	} {
		cfg, err := redisurl.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		c := cfg.NewClient(o).(*redis.Client)
		got := c.Options()
		c.Close()
		if got.DialTimeout != tc.dial || got.ReadTimeout != tc.read {
			t.Errorf("%s: dial %v read %v, want %v %v", tc.url, got.DialTimeout, got.ReadTimeout, tc.dial, tc.read)
		}
	}
}
