package denylist

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotReplicated means a write reached the primary but fewer replicas
// than WithMinReplicasAck asks acknowledged it in time. It matches
// ErrUnavailable: the caller answers as for an outage (503), since a
// failover now could lose the write.
var ErrNotReplicated = fmt.Errorf("%w: not acknowledged by enough replicas", ErrUnavailable)

// replicaAcks is the WAIT a write is followed by; n 0 means none.
type replicaAcks struct {
	n       int
	timeout time.Duration
}

// DefaultReplicaAckTimeout is how long a write waits for its replicas
// unless WithMinReplicasAck says otherwise.
const DefaultReplicaAckTimeout = 500 * time.Millisecond

// WithMinReplicasAck makes every write of a Redis wait until at least n
// replicas acknowledged it (Redis WAIT n timeout, sent on the connection
// that wrote, after the writes, in the same round trip; on Redis Cluster
// once per shard written), or fail with ErrNotReplicated after timeout
// (<= 0: DefaultReplicaAckTimeout). It narrows what a failover can lose
// to nothing acknowledged, at the cost of a replica round trip per write.
// n <= 0 turns it off, the default.
func WithMinReplicasAck(n int, timeout time.Duration) RedisOption {
	return redisOptionFunc(func(r *Redis) {
		if timeout <= 0 {
			timeout = DefaultReplicaAckTimeout
		}
		r.acks = replicaAcks{n: max(n, 0), timeout: timeout}
	})
}

// pipelineAcked is pipeline followed by WAIT on the same connection. On
// one server (or Sentinel's master) that is one pipeline of the client,
// which go-redis runs on one connection. On Redis Cluster a WAIT has no
// key to route it, so the writes are grouped by the primary that serves
// their slot and each group is pipelined, with its WAIT, on that node's
// client; the groups run at once.
func (r *Redis) pipelineAcked(ctx context.Context, writes []write, bySHA bool) ([]redis.Cmder, error) {
	cc, ok := r.client.(*redis.ClusterClient)
	if !ok {
		return r.pipelineWait(ctx, r.client, writes, bySHA)
	}
	groups := make(map[*redis.Client][]int)
	for i, w := range writes {
		node, err := cc.MasterForKey(ctx, w.key)
		if err != nil {
			return nil, err
		}
		groups[node] = append(groups[node], i)
	}
	cmds := make([]redis.Cmder, len(writes))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for node, idx := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws := make([]write, len(idx))
			for j, i := range idx {
				ws[j] = writes[i]
			}
			got, err := r.pipelineWait(ctx, node, ws, bySHA)
			mu.Lock()
			defer mu.Unlock()
			for j, i := range idx {
				if j < len(got) {
					cmds[i] = got[j]
				}
			}
			if err != nil && first == nil {
				first = err
			}
		}()
	}
	wg.Wait()
	for i, c := range cmds {
		if c == nil { // a group that failed before returning its commands
			st := redis.NewStatusCmd(ctx)
			st.SetErr(first)
			cmds[i] = st
		}
	}
	return cmds, first
}

// pipelineWait runs writes then WAIT in one pipeline of c and returns the
// writes' commands; too few acknowledgements is ErrNotReplicated.
func (r *Redis) pipelineWait(ctx context.Context, c redis.Cmdable, writes []write, bySHA bool) ([]redis.Cmder, error) {
	pipe := c.Pipeline()
	r.queue(ctx, pipe, writes, bySHA)
	wait := pipe.Do(ctx, "WAIT", r.acks.n, r.acks.timeout.Milliseconds())
	cmds, err := pipe.Exec(ctx)
	if len(cmds) > len(writes) {
		cmds = cmds[:len(writes)]
	}
	if err != nil {
		return cmds, err
	}
	if got, err := wait.Int64(); err != nil || got < int64(r.acks.n) {
		return cmds, fmt.Errorf("%w: %d of %d replicas within %v", ErrNotReplicated, got, r.acks.n, r.acks.timeout)
	}
	return cmds, nil
}
