package denylist

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// The generation marker says up to which revocation of a durable record
// (internal/revocation numbers them) this Redis is known to hold every
// entry. It is written after the entries, so that a Redis that lost
// writes (restarted without persistence, flushed, or a promoted replica
// that had not received them) has a marker that is missing or behind, and
// the writer rebuilds it.
//
// On one server (or Sentinel's master) it is one key, <prefix>generation.
// On Redis Cluster a shard can lose its writes alone, so there is one
// marker per primary: <prefix>{g<n>}:generation, where n is the first
// number whose hash tag lands in a slot of that primary. The marker a
// shard holds describes that shard's entries, which replicate in order
// with it.

// markerScript sets KEYS[1] to ARGV[1] unless it holds a greater number:
// a marker never goes back.
var markerScript = redis.NewScript(`
local old = tonumber(redis.call('GET', KEYS[1]) or '-1') or -1
if tonumber(ARGV[1]) > old then
  redis.call('SET', KEYS[1], ARGV[1])
  return tonumber(ARGV[1])
end
return old
`)

// maxTagSearch bounds the search for a hash tag on a primary's slots; a
// primary with at least one slot range of 1/1000 of the slots is found
// well within it.
const maxTagSearch = 100000

// errNoTag is a primary whose slots no tag within maxTagSearch reaches.
var errNoTag = errors.New("no hash tag found for a primary's slots")

// ErrMarkerMissing means a check found a generation marker missing: the
// Redis it read from lost data (flushed, restarted empty), so its "not
// revoked" cannot be trusted. It matches ErrUnavailable.
var ErrMarkerMissing = fmt.Errorf("%w: generation marker missing", ErrUnavailable)

// kindMarker is the kind of a marker key read along with a check.
const kindMarker = "generation"

// CheckMarked is Check that also reads every generation marker in the same
// round trip (on Redis Cluster, one MGET per slot, pipelined), and fails
// with ErrMarkerMissing when one is missing: a Redis that lost its data
// since the last sync is refused at once rather than read as "not
// revoked". Before SetGeneration or Generation has run it reads the
// markers' names first (one CLUSTER SLOTS on Cluster).
func (r *Redis) CheckMarked(ctx context.Context, t Token) error {
	keys := r.markers.Load()
	if keys == nil {
		if _, err := r.markerKeys(ctx); err != nil {
			return fmt.Errorf("%w: check: %w", ErrUnavailable, err)
		}
		keys = r.markers.Load()
	}
	return r.check(ctx, t, *keys)
}

// markerKeys returns the marker key of every primary, and keeps them for
// CheckMarked.
func (r *Redis) markerKeys(ctx context.Context) ([]string, error) {
	keys, err := r.findMarkerKeys(ctx)
	if err == nil {
		r.markers.Store(&keys)
	}
	return keys, err
}

func (r *Redis) findMarkerKeys(ctx context.Context) ([]string, error) {
	cc, ok := r.client.(*redis.ClusterClient)
	if !ok {
		return []string{r.prefix + "generation"}, nil
	}
	slots, err := cc.ClusterSlots(ctx).Result()
	if err != nil {
		return nil, err
	}
	ranges := make(map[string][][2]int) // primary address → slot ranges
	for _, s := range slots {
		if len(s.Nodes) == 0 {
			continue
		}
		ranges[s.Nodes[0].Addr] = append(ranges[s.Nodes[0].Addr], [2]int{s.Start, s.End})
	}
	owner := func(slot int) string {
		for addr, rs := range ranges {
			for _, rg := range rs {
				if slot >= rg[0] && slot <= rg[1] {
					return addr
				}
			}
		}
		return ""
	}
	keys := make([]string, 0, len(ranges))
	found := make(map[string]bool, len(ranges))
	for n := 0; n < maxTagSearch && len(found) < len(ranges); n++ {
		key := r.prefix + "{g" + strconv.Itoa(n) + "}:generation"
		if addr := owner(int(keySlot(key))); addr != "" && !found[addr] {
			found[addr] = true
			keys = append(keys, key)
		}
	}
	if len(found) < len(ranges) {
		return nil, errNoTag
	}
	return keys, nil
}

// Generation returns the lowest generation marker of every primary, and
// complete false when one of them is missing (a flushed or restarted
// shard): such a Redis must be rebuilt whatever the others say. An error
// matches ErrUnavailable.
func (r *Redis) Generation(ctx context.Context) (gen int64, complete bool, err error) {
	keys, err := r.markerKeys(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("%w: generation: %w", ErrUnavailable, err)
	}
	pipe := r.client.Pipeline()
	cmds := make([]*redis.StringCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.Get(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, false, fmt.Errorf("%w: generation: %w", ErrUnavailable, err)
	}
	complete = true
	for i, c := range cmds {
		v, err := c.Int64()
		if errors.Is(err, redis.Nil) {
			complete = false
			continue
		}
		if err != nil {
			// Unreadable: treat as missing, so the next rebuild rewrites it.
			complete = false
			continue
		}
		if i == 0 || v < gen {
			gen = v
		}
	}
	if !complete {
		gen = 0
	}
	return gen, complete, nil
}

// SetGeneration raises every primary's marker to gen (never lowers it).
// With WithMinReplicasAck it does not wait: a marker that a failover loses
// only causes a rebuild.
func (r *Redis) SetGeneration(ctx context.Context, gen int64) error {
	keys, err := r.markerKeys(ctx)
	if err != nil {
		return fmt.Errorf("%w: set generation: %w", ErrUnavailable, err)
	}
	pipe := r.client.Pipeline()
	for _, k := range keys {
		markerScript.Eval(ctx, pipe, []string{k}, gen) // EVAL: a pipeline cannot fall back from EVALSHA, and the script is short
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("%w: set generation: %w", ErrUnavailable, err)
	}
	return nil
}

// Identity names the Redis servers that hold the data: the run_id of the
// server (of every primary on Redis Cluster), sorted. It changes when a
// server restarts or a replica is promoted, which is when acknowledged
// writes may have been lost although the marker survived (a marker written
// before the lost write), so a change calls for a rebuild.
func (r *Redis) Identity(ctx context.Context) (string, error) {
	var (
		mu  sync.Mutex
		ids []string
	)
	read := func(ctx context.Context, c *redis.Client) error {
		info, err := c.Info(ctx, "server").Result()
		if err != nil {
			return err
		}
		id := runID(info)
		if id == "" {
			return errors.New("INFO server has no run_id")
		}
		mu.Lock()
		ids = append(ids, id)
		mu.Unlock()
		return nil
	}
	var err error
	switch c := r.client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, read)
	case *redis.Client:
		err = read(ctx, c)
	default:
		var info string
		if info, err = r.client.Info(ctx, "server").Result(); err == nil {
			ids = append(ids, runID(info))
		}
	}
	if err != nil {
		return "", fmt.Errorf("%w: identity: %w", ErrUnavailable, err)
	}
	slices.Sort(ids)
	return strings.Join(ids, ","), nil
}

// runID returns the run_id field of an INFO reply.
func runID(info string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok {
			return v
		}
	}
	return ""
}
