// Package ratelimit slows down abusers of authd's credential endpoints:
// GCRA rate limits per key (a client IP, an email, a pair of both) and a
// progressive delay for an account that keeps failing to log in.
//
// It is not HTTP middleware and knows nothing of requests: the caller picks
// the key and the Limit per endpoint, calls Allow or Backoff.Delay before
// any costly work (bcrypt above all), and answers 429 with Retry-After
// itself. It is not a lockout either: Backoff only ever delays an account's
// next attempt, by at most BackoffPolicy.Max, so an attacker who fails on
// purpose can slow a user down but never lock them out, and a success
// resets the delay.
//
// Each has an in-process implementation (Memory, MemoryBackoff) for a
// single replica and a Redis one (Redis, RedisBackoff) whose state all
// replicas share. Both pairs pass the same conformance suite,
// internal/ratelimit/ratelimittest.
//
// # Failures
//
// A Redis error is returned as an error matching ErrUnavailable (and its
// cause); nothing is read as "allowed" or "no delay" here. authd fails
// open on it: it logs the error and serves the request, because a Redis
// outage must not lock every user out, and bcrypt admission control
// (internal/admission) still bounds the cost of the requests let through.
//
// # Redis key layout
//
// <prefix> is "authd:rl:" unless set with WithKeyPrefix; keys are used
// verbatim. The limiter's keys are written by github.com/go-redis/redis_rate,
// which puts its own "rate:" in front.
//
//	rate:<prefix><key>               GCRA theoretical arrival time, float seconds
//	                                 since 2017-01-01 (redis_rate's epoch); expires
//	                                 when the key is back to full burst
//	<prefix>backoff:{<key>}:fails    failure count; expires Window after the last
//	<prefix>backoff:{<key>}:wait     "1" while the next attempt must wait; its
//	                                 PTTL is the delay left
//
// The braces make both backoff keys of one account hash to the same Redis
// Cluster slot, so Success deletes them with one DEL, and each account to
// its own slot, so accounts spread over a cluster's shards; a limiter key
// is one key, hashed whole, so limited keys spread too. A prefix with a
// hash tag of its own ("{...}") would put every key in one slot: keep
// braces out of it. Every operation is
// one round trip (two once after Redis has lost its script cache, to
// reload the script); time is the Redis server's, so replicas' clocks need
// not agree.
package ratelimit
