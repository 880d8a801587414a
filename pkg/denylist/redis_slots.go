package denylist

import (
	"context"
	"strings"

	"github.com/redis/go-redis/v9"
)

// clusterSlots is the number of hash slots of Redis Cluster.
const clusterSlots = 16384

// keySlot returns the Redis Cluster hash slot of key: CRC16 (XMODEM) of
// its hash tag (the part between the first '{' and the first '}' after
// it, when not empty) or of the whole key, modulo 16384.
func keySlot(key string) uint16 {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return crc16(key) % clusterSlots
}

// crc16 is CRC-16/XMODEM (polynomial 0x1021, initial value 0), the hash
// of Redis Cluster.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// mget reads keys. On one server (or Sentinel's master) it is one MGET.
// Redis Cluster refuses an MGET whose keys are in different slots, so
// there the keys are grouped by slot into one MGET each, sent in one
// pipeline: go-redis sends each node its share in one write and reads
// the replies, all nodes at once, so a batch costs one round trip per
// shard it touches.
func (r *Redis) mget(ctx context.Context, keys []string) ([]any, error) {
	if !r.cluster || len(keys) == 1 {
		return r.client.MGet(ctx, keys...).Result()
	}
	first := keySlot(keys[0])
	same := true
	slots := make([]uint16, len(keys))
	for i, k := range keys {
		slots[i] = keySlot(k)
		same = same && slots[i] == first
	}
	if same {
		return r.client.MGet(ctx, keys...).Result()
	}
	bySlot := make(map[uint16][]int)
	order := make([]uint16, 0, 8)
	for i, s := range slots {
		if _, ok := bySlot[s]; !ok {
			order = append(order, s)
		}
		bySlot[s] = append(bySlot[s], i)
	}
	pipe := r.client.Pipeline()
	cmds := make([]*redis.SliceCmd, len(order))
	for n, s := range order {
		idx := bySlot[s]
		ks := make([]string, len(idx))
		for j, i := range idx {
			ks[j] = keys[i]
		}
		cmds[n] = pipe.MGet(ctx, ks...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	vals := make([]any, len(keys))
	for n, s := range order {
		got := cmds[n].Val()
		idx := bySlot[s]
		if len(got) != len(idx) {
			return nil, errMGetLength
		}
		for j, i := range idx {
			vals[i] = got[j]
		}
	}
	return vals, nil
}
