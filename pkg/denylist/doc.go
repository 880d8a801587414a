// Package denylist records revoked access tokens so that every verifier,
// authd itself and any service using pkg/middleware, refuses them before they
// expire.
//
// Three kinds of entry exist, each kept only as long as a token it could
// refuse may still be alive:
//
//   - a token id (jti): refuses that one access token;
//   - a session id (sid): refuses every access token of that session;
//   - a per-user cutoff (sub): refuses every token of that user whose iat is
//     before the cutoff.
//
// Revocation is keyed on jti/sid/sub, never on a hash of the token string:
// ECDSA signatures are malleable, so one token can have several valid
// encodings.
//
// Two implementations share one conformance suite (pkg/denylist/denylisttest):
// Memory for a single process and Redis for replicas and other services.
// A third, Mirror, only checks: it keeps a copy of a Redis denylist in
// memory, so that a verifier pays no round trip per request; the same
// suite runs against it, with Redis taking the writes. This package must
// not import database drivers: services using pkg/middleware's Redis check
// link it. Token, Checker, ErrRevoked and ErrUnavailable are
// pkg/revocation's, which is all pkg/middleware itself imports.
//
// Both keep an entry until the later of every `until` written for it, and a
// per-user cutoff only ever moves forward, so a revocation is never weakened
// by a later, weaker one. An empty field of a checked Token is simply not
// looked up: nothing can be revoked under an empty id, and requiring the
// claims is the verifier's job.
//
// # Redis key layout
//
// The layout is a contract: other services read these keys directly, so
// changing it is a breaking change. <prefix> is "authd:dl:" unless set with
// WithKeyPrefix; ids are used verbatim (Redis keys are binary safe). Two
// layouts exist (Layout); v2 puts the subject in braces, the Redis
// Cluster hash tag, so that one token's keys share a slot and different
// users' keys spread over the shards:
//
//	v2                          v1                  value
//	<prefix>{<sub>}:jti:<jti>   <prefix>jti:<jti>   "1"       the access token jti of sub is revoked
//	<prefix>{<sub>}:sid:<sid>   <prefix>sid:<sid>   "1"       every access token of session sid is revoked
//	<prefix>{<sub>}:cut         <prefix>sub:<sub>   <cutoff>  every token of subject sub whose iat, in unix
//	                                                          seconds, is < cutoff is revoked; cutoff is
//	                                                          decimal unix seconds, e.g. "1767225600"
//
// A v2 jti or sid entry is found with the subject of the token checked
// (its sub claim), which is why RevokeToken and RevokeSessions take it.
// With LayoutV1V2, the default, every entry is written under both
// layouts and a check reads both, v2 first; LayoutV2 writes and reads v2
// alone. A release that knows only v1 and one with LayoutV1V2 refuse each
// other's revocations, which makes the rolling upgrade safe; LayoutV2 is
// for once no v1-only reader or writer is left and one access-token
// lifetime has passed (README, "Logout and the denylist").
//
// Any other key under the prefix is neither read by a check nor copied by
// a Mirror, which leaves room for bookkeeping keys (such as a generation
// marker) beside the entries.
//
// Every key expires at the `until` it was written with: its TTL is
// until − now rounded up to a whole millisecond (SET ... PX), now being the
// writer's clock. A relative TTL rather than PXAT keeps expiry on the same
// clock that decided the entry was worth writing, whatever the Redis
// server's clock says. Writing an entry that exists keeps the later of the
// two expiries, and a sub cutoff is replaced only by a greater one; a Lua
// script does each atomically, so concurrent writers cannot undo each other.
// A revocation whose until is already past is not written.
//
// A check reads the keys of one token with a single MGET (the sid key is
// left out when the token has no sid); an absent key means "not revoked"
// for that reason. Checks that arrive while another is in flight are sent
// together, as one MGET of all their keys (at most 256 checks): a lone check
// costs what it always did, and under load one round trip, one write and
// one read on each side serve a whole batch. On Redis Cluster (a
// *redis.ClusterClient) the keys of a batch are grouped by slot, one MGET
// per slot, all pipelined: one round trip per shard. A prefix with a hash
// tag of its own ("{authd:dl}:") still works but puts every key on one
// shard.
//
// # Revocation events
//
// Every revocation that is written is also published, by the same script
// and so in the same round trip, on the channel <prefix>events, one message
// per entry (with LayoutV1V2 the v2 write publishes, the v1 copy does not):
//
//	jti <until> <jti>
//	sid <until> <sid>
//	sub <until> <cutoff> <subject>
//
// until is unix seconds rounded up, cutoff unix seconds as given (not the
// stored maximum). The id comes last and runs to the end of the message, so
// it may contain spaces. Pub/sub delivers at most once and keeps no
// history: a subscriber (such as a local mirror for the middleware) must
// apply the same rules as the keys (later until wins, greater cutoff wins),
// which makes duplicates and reordering harmless, and must fall back to the
// keys while it is not subscribed. ParseEvent decodes a message.
//
// # Local mirror
//
// NewMirror follows a Redis denylist from another process: it subscribes
// to <prefix>events, then copies every entry under the prefix (SCAN, then
// PTTL and GET in pipelines), then applies the events that arrived during
// the copy and all later ones. Subscribing first leaves no gap, and the
// rules above make an event that repeats the copy harmless. Whenever the
// subscription is lost (connection error, reconnect, an event it cannot
// read) the copy is dropped and the sequence starts again; a resync costs
// one SCAN of the keyspace plus a pipelined round trip per 1,000 entries.
//
// Staleness bound. Redis answers a PING on the subscription connection
// only after every message published before the PING was received, so
// once the answer arrives the mirror holds every revocation whose write
// completed before the PING was sent. The mirror pings every quarter of
// its bound (WithMaxStaleness, default 1s), and its Check fails with
// ErrUnavailable whenever the last answered PING was sent longer ago than
// the bound: before the first copy is complete, during a resync, and when
// the connection breaks or goes silent. Hence:
//
//   - in sync, a revocation reaches the mirror in the time Redis takes to
//     deliver the publish, about one round trip: by the time the writer has
//     read its reply the mirror has nearly always applied the event
//     (TestMirrorPropagation, BenchmarkMirrorPropagation; figures in
//     docs/benchmarks.md);
//   - a Check that answers nil or ErrRevoked reflects every revocation
//     written more than the bound (1s) before it, whatever the network
//     does; otherwise it answers ErrUnavailable. A closed connection is
//     usually noticed sooner (TestMirrorResyncsAfterDisconnect,
//     go-redis's own reconnect attempt included), a silent one when the
//     bound runs out; the mirror then resubscribes and resyncs, retrying at
//     least once a second.
//
// On Redis Cluster the mirror subscribes on every master and copies every
// master; the bound then holds for every master, each of which is pinged
// (a publish reaches the other nodes over the cluster bus, ordered only on
// the node that ran it). Each event arrives once per master, which the
// rules above make harmless. Through Sentinel, a failover breaks the
// subscription and the mirror copies again from the new master; it also
// reads the server's run_id every ping interval and copies again when its
// ordinary commands reach another server than its subscription did. A
// Mirror's expiry follows its clock (WithClock); entries learnt from
// events are kept until their until rounded up to the second.
package denylist
