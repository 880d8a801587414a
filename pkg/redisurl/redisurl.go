// Package redisurl turns one URL into a go-redis client for any of the
// three Redis topologies authd supports: one server, Redis Cluster and
// Sentinel. authd reads AUTHD_REDIS_URL through it, and a service using
// pkg/middleware can read the same setting with the same rules, so that
// both reach the denylist the same way.
//
// Accepted forms (Forms):
//
//	redis://[user:pass@]host:port[/db][?option=value…]   one server (go-redis ParseURL)
//	rediss://…                                            the same over TLS
//	redis+cluster://[user:pass@]h1:p1,h2:p2,…[?tls=true]  Redis Cluster, seed nodes
//	redis+sentinel://[user:pass@]s1:p1,s2:p2,…/MASTER[/DB][?tls=true]
//	                                                      Sentinel: the sentinels and the master's name
//
// user:pass authenticate to the data nodes (the cluster's nodes, the
// Sentinel master and replicas), not to the sentinels. An error never
// repeats the URL, which may carry a password. This package depends on
// go-redis only; it holds no state and starts nothing.
package redisurl

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrInvalid is matched (errors.Is) by every error of Parse.
var ErrInvalid = errors.New("redisurl: invalid Redis URL")

// Forms lists the accepted forms, for messages that tell the user what
// to write.
const Forms = "redis://[user:pass@]host:port[/db], rediss://…, " +
	"redis+cluster://[user:pass@]h1:p1,h2:p2,…[?tls=true] or " +
	"redis+sentinel://[user:pass@]s1:p1,s2:p2,…/MASTER_NAME[/DB][?tls=true]"

// Topology is the kind of deployment a URL names.
type Topology string

// Topologies.
const (
	Single   Topology = "single"
	Cluster  Topology = "cluster"
	Sentinel Topology = "sentinel"
)

// Schemes.
const (
	schemeRedis    = "redis"
	schemeRediss   = "rediss"
	schemeCluster  = "redis+cluster"
	schemeSentinel = "redis+sentinel"
)

// Config is a parsed Redis URL.
type Config struct {
	// Topology says which client NewClient builds.
	Topology Topology
	// Addrs are the server (Single), the seed nodes (Cluster) or the
	// sentinels (Sentinel), each host:port.
	Addrs []string
	// MasterName is the Sentinel master's name.
	MasterName string
	// DB is the database number (Single and Sentinel; Cluster has only 0).
	DB int
	// Username and Password authenticate to the data nodes.
	Username, Password string
	// TLS says whether connections use TLS.
	TLS bool

	single *redis.Options // Single: everything go-redis's ParseURL read
}

// ClientOptions tunes the client NewClient builds; a zero field keeps
// go-redis's default, and a timeout a redis:// URL sets itself
// (dial_timeout=…) wins.
type ClientOptions struct {
	DialTimeout, ReadTimeout, WriteTimeout time.Duration
}

// Parse parses s, which must be one of the forms in Forms. The error
// matches ErrInvalid and says what is wrong without repeating s.
func Parse(s string) (*Config, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return nil, invalid("no scheme")
	}
	switch scheme {
	case schemeRedis, schemeRediss:
		o, err := redis.ParseURL(s)
		if err != nil {
			// go-redis's message may quote the URL; keep only ours.
			return nil, invalid("not a valid %s:// URL", scheme)
		}
		return &Config{
			Topology: Single, Addrs: []string{o.Addr}, DB: o.DB,
			Username: o.Username, Password: o.Password, TLS: o.TLSConfig != nil, single: o,
		}, nil
	case schemeCluster:
		return parseMulti(Cluster, rest)
	case schemeSentinel:
		return parseMulti(Sentinel, rest)
	default:
		return nil, invalid("unknown scheme %q", scheme)
	}
}

// parseMulti parses what follows the scheme of a cluster or sentinel URL:
// [user:pass@]h1:p1,…[/path][?query].
func parseMulti(top Topology, rest string) (*Config, error) {
	c := &Config{Topology: top}
	rest, query, _ := strings.Cut(rest, "?")
	if i := strings.IndexByte(query, '#'); i >= 0 {
		return nil, invalid("a fragment is not allowed")
	}
	// The user info ends at the last '@', looked for before splitting off
	// the path, so that a password holding '/' is never mistaken for a
	// host (and quoted in an error).
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		user, pass, hasPass := strings.Cut(rest[:at], ":")
		var err error
		if c.Username, err = url.PathUnescape(user); err != nil {
			return nil, invalid("bad escape in the user name")
		}
		if hasPass {
			if c.Password, err = url.PathUnescape(pass); err != nil {
				return nil, invalid("bad escape in the password")
			}
		}
		rest = rest[at+1:]
	}
	authority, path, _ := strings.Cut(rest, "/")
	if authority == "" {
		return nil, invalid("no host:port")
	}
	for _, hp := range strings.Split(authority, ",") {
		host, port, err := net.SplitHostPort(hp)
		if err != nil || host == "" {
			return nil, invalid("%q is not host:port", hp)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, invalid("%q: port must be 1 to 65535", hp)
		}
		c.Addrs = append(c.Addrs, hp)
	}
	switch top {
	case Cluster:
		if path != "" {
			return nil, invalid("a cluster URL has no path (Redis Cluster has only database 0)")
		}
	case Sentinel:
		name, db, hasDB := strings.Cut(path, "/")
		if name == "" {
			return nil, invalid("a sentinel URL needs /MASTER_NAME after the sentinels")
		}
		var err error
		if c.MasterName, err = url.PathUnescape(name); err != nil {
			return nil, invalid("bad escape in the master name")
		}
		if hasDB {
			n, err := strconv.Atoi(db)
			if err != nil || n < 0 || strings.Contains(db, "/") {
				return nil, invalid("the database after the master name must be a number")
			}
			c.DB = n
		}
	}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return nil, invalid("bad query")
		}
		for k, v := range q {
			if k != "tls" {
				return nil, invalid("unknown option %q (only tls is accepted)", k)
			}
			switch v[len(v)-1] {
			case "true", "1":
				c.TLS = true
			case "false", "0", "":
			default:
				return nil, invalid("tls must be true or false")
			}
		}
	}
	return c, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// String returns the URL's shape with the password replaced, for logs.
func (c *Config) String() string {
	auth := ""
	if c.Username != "" || c.Password != "" {
		auth = c.Username
		if c.Password != "" {
			auth += ":xxxxx"
		}
		auth += "@"
	}
	tlsOn := ""
	if c.TLS {
		tlsOn = "?tls=true"
	}
	switch c.Topology {
	case Cluster:
		return schemeCluster + "://" + auth + strings.Join(c.Addrs, ",") + tlsOn
	case Sentinel:
		return schemeSentinel + "://" + auth + strings.Join(c.Addrs, ",") + "/" + c.MasterName + "/" + strconv.Itoa(c.DB) + tlsOn
	default:
		scheme := schemeRedis
		if c.TLS {
			scheme = schemeRediss
		}
		return scheme + "://" + auth + strings.Join(c.Addrs, ",") + "/" + strconv.Itoa(c.DB)
	}
}

// NewClient builds the client c names: a *redis.Client (Single), a
// *redis.ClusterClient (Cluster) or a failover *redis.Client (Sentinel).
// It does not contact Redis. The caller closes it.
func (c *Config) NewClient(o ClientOptions) redis.UniversalClient {
	var tlsConf *tls.Config
	if c.TLS {
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	switch c.Topology {
	case Cluster:
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: c.Addrs, Username: c.Username, Password: c.Password, TLSConfig: tlsConf,
			DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
		})
	case Sentinel:
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: c.MasterName, SentinelAddrs: c.Addrs, DB: c.DB,
			Username: c.Username, Password: c.Password, TLSConfig: tlsConf,
			DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
		})
	default:
		var opts redis.Options
		if c.single != nil {
			opts = *c.single
		} else {
			opts = redis.Options{Username: c.Username, Password: c.Password, DB: c.DB, TLSConfig: tlsConf}
			if len(c.Addrs) > 0 {
				opts.Addr = c.Addrs[0]
			}
		}
		// A timeout given in the URL (dial_timeout=…) wins over o's.
		if opts.DialTimeout == 0 {
			opts.DialTimeout = o.DialTimeout
		}
		if opts.ReadTimeout == 0 {
			opts.ReadTimeout = o.ReadTimeout
		}
		if opts.WriteTimeout == 0 {
			opts.WriteTimeout = o.WriteTimeout
		}
		return redis.NewClient(&opts)
	}
}
