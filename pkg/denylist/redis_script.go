package denylist

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// writeScript records one entry and publishes its event. Doing the
// read-compare-write in a script makes it atomic, so concurrent writers
// can neither lower a cutoff nor shorten an expiry; publishing from it
// keeps the event in the same round trip and only after the write. It
// touches one key, so it runs on Redis Cluster too, and uses nothing newer
// than Redis 2.6.12.
//
// KEYS[1]: the entry key.
// ARGV[1]: value; ARGV[2]: TTL in ms; ARGV[3]: "max" to keep a greater
// numeric value already there; ARGV[4]: channel, empty to publish
// nothing (the v1 copy of an entry whose v2 write publishes);
// ARGV[5]: event message.
const writeScript = `
local value = ARGV[1]
if ARGV[3] == 'max' then
  local old = redis.call('GET', KEYS[1])
  if old and tonumber(old) and tonumber(old) >= tonumber(value) then
    value = old
  end
end
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -1 then
  redis.call('SET', KEYS[1], value)
elseif pttl > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], value, 'PX', pttl)
else
  redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
end
if ARGV[4] ~= '' then
  redis.call('PUBLISH', ARGV[4], ARGV[5])
end
return value
`

// maxTTLms caps a TTL far below the float precision of Lua numbers; an
// entry kept for 35,000 years is kept forever for any purpose.
const maxTTLms = 1 << 50

// write is one run of writeScript.
type write struct {
	key   string
	value string
	max   bool
	ttlMS int64
	event Event
	// silent writes without publishing: the v1 copy of a v2 entry.
	silent bool
}

// exec runs every write in one pipelined round trip. EVALSHA is sent
// first; should Redis have lost the script (restart, failover, SCRIPT
// FLUSH), the writes it refused, and only those, are sent again with EVAL,
// so no event is published twice.
func (r *Redis) exec(ctx context.Context, op string, writes []write) error {
	cmds, err := r.pipeline(ctx, writes, true)
	if err != nil {
		var retry []write
		for i, c := range cmds {
			switch err := c.Err(); {
			case err == nil:
			case isNoScript(err):
				retry = append(retry, writes[i])
			default:
				return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
			}
		}
		if len(retry) == 0 {
			return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
		}
		if _, err := r.pipeline(ctx, retry, false); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
		}
	}
	return nil
}

// pipeline sends writes in one round trip, by hash or with the source,
// followed by WAIT with WithMinReplicasAck (see replicas.go).
func (r *Redis) pipeline(ctx context.Context, writes []write, bySHA bool) ([]redis.Cmder, error) {
	if r.acks.n > 0 {
		return r.pipelineAcked(ctx, writes, bySHA)
	}
	pipe := r.client.Pipeline()
	r.queue(ctx, pipe, writes, bySHA)
	return pipe.Exec(ctx)
}

// queue adds the script runs of writes to pipe.
func (r *Redis) queue(ctx context.Context, pipe redis.Pipeliner, writes []write, bySHA bool) {
	for _, w := range writes {
		mode := ""
		if w.max {
			mode = "max"
		}
		keys := []string{w.key}
		channel, msg := r.channel, w.event.String()
		if w.silent {
			channel, msg = "", ""
		}
		args := []any{w.value, w.ttlMS, mode, channel, msg}
		if bySHA {
			r.script.EvalSha(ctx, pipe, keys, args...)
		} else {
			r.script.Eval(ctx, pipe, keys, args...)
		}
	}
}

// isNoScript reports whether Redis refused an EVALSHA for not knowing the
// script.
func isNoScript(err error) bool {
	return errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT")
}
