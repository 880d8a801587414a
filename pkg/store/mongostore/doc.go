// Package mongostore is the MongoDB implementation of store.Store and
// store.AuditLog, on the official driver (go.mongodb.org/mongo-driver/v2).
// Open takes a mongodb:// or mongodb+srv:// URI (database from its path,
// DefaultDatabase when none); Migrate applies the versioned index changes.
// Open never migrates.
//
// It is not where policy lives: the rotation decision is
// store.DecideRotation, called inside each rotation; the package does not
// hash passwords, refuse disabled users or pick lifetimes.
//
// # Documents
//
// One document per user (roles embedded, unique index on email), session
// (with its refresh state and the credential version it was created at),
// client (_id is the client id), signing key, one-time token (_id is its
// user and purpose; unique index on the hash), MFA state of a user (TOTP
// and recovery codes in one document, _id the user id), MFA challenge (_id
// its digest), audit event (_id an int64 id), login time of a user
// (logins), and claims (below). Times are int64 Unix microseconds (BSON
// dates keep milliseconds), 0 for the zero time. Documents with an expiry
// carry expire_at, a BSON date for a TTL index whose expireAfterSeconds is
// the retention (WithTTLRetention): deletion by the TTL monitor is lazy and
// only saves storage; every query checks expiry itself.
//
// # What is atomic, and how
//
// Nothing uses a multi-document transaction, so the store runs on a
// standalone server, a replica set or a sharded cluster (every document of a
// user but the audit trail can be sharded by user id). Each invariant that
// must hold under concurrency rests on one single-document operation:
//
//   - Single use is a claim: inserting a document whose _id names the used
//     value (rotate:<session>:<presented jti>, token:<hash>, mfa:<digest>,
//     totp:<user>:<confirmation>:<step>, code:<user>:<set>:<digest>). The
//     server's unique _id lets exactly one insert of a key succeed, so of
//     concurrent rotations of one refresh token one rotates, and of
//     concurrent uses of a one-time token, MFA challenge, TOTP step or
//     recovery code one succeeds. The winner then applies the change with a
//     conditional update (findOneAndUpdate on the expected refresh_jti,
//     revoked_at 0 and unexpired; used_at 0 for tokens and challenges;
//     last_step < step for TOTP; a codes_rev compare-and-set for recovery
//     codes), which on MongoDB is atomic by itself. The claim is there
//     because not every MongoDB-protocol server isolates a conditional
//     update (FerretDB v1 reads, then writes by _id: two callers both
//     match), and it costs one insert.
//   - RotateRefresh: claim, then findOneAndUpdate returning the session as
//     it was, then the owner read after it; DecideRotation is applied to
//     the session read and the owner's version read. A credential change
//     that landed before the owner read refuses the call
//     (store.ErrSessionRevoked), and the session it rotated is dead by
//     version, so nothing can use the new token; a change after it comes
//     after the rotation. A caller whose claim lost reads the session and
//     owner and lets DecideRotation answer (replay in grace: the current
//     successor; reuse: the session is revoked by a conditional update;
//     still current: the winner has not written yet, so it waits for it).
//     A winner that dies between its claim and its update leaves that token
//     unable to rotate: the user signs in again.
//   - CreateSession reads the user's credential version, inserts the
//     session at it, and reads the version again; if it moved (or the user
//     is gone) the session is deleted and the call is
//     store.ErrCredentialsChanged (store.ErrNotFound). A reset that lands
//     between the two reads is seen by the second; until the delete, the
//     session exists at the old version, which nothing treats as live
//     (RotateRefresh, ListSessions and StepUpSession compare it with the
//     user's). It never writes the user document: last_login_at lives in
//     the user's logins document ($max), so that a login cannot race with a
//     credential change on the user.
//   - A credential change is one update of the user ($inc of
//     credential_version, conditional on the version verified where the
//     contract says so). RevokeUserSessions bumps first, then revokes: a
//     session it misses is dead by version.
//   - Audit ids: one $inc of a counter document allocates a batch's range
//     (the server serializes updates of one document), and the batch is one
//     ordered insertMany. Ids increase with allocation: a batch may become
//     visible after a later one, and a failed insert leaves a gap; nothing
//     is ever deleted, so AuditQuery.Before pages never repeat an event.
//
// # What the SQL backends guarantee that this one does not
//
// Three operations span documents and are not one atomic step:
// ChangePasswordHash (the user's update, then the kept session carried to
// the new version: between the two, that session cannot rotate, and a
// crash between them ends it), DeleteUser (the user's sessions, tokens,
// MFA state, claims and login time, then the user, then the same again;
// audit IP and user agent erased with updateMany: a call that fails part
// way leaves the user in place, so it can be repeated; a login racing with
// it deletes its own session when its second read finds no user), and
// CreateOneTimeToken (the user read, then the upsert that replaces the
// earlier token, then a second read taking the token back if the user went
// meanwhile). The suite's concurrency cases hold all the same.
//
// Also: the audit trail is append-only only by the privileges of authd's
// database user (MongoDB has no triggers). And on a server whose updates
// are not isolated (FerretDB v1: it reads the matching document, applies
// the update in memory and writes the whole document back by _id), two
// concurrent updates of one document can lose one of their changes where
// no claim orders them: a logout (RevokeSession) racing with a refresh of
// the same session, a failure counted on an MFA challenge, a role granted
// while the user is disabled. MongoDB applies each update atomically to
// the document as it is, so none of these exists there; on FerretDB v1
// they are known and not covered. Use FerretDB for tests, MongoDB (or a
// server that isolates single-document updates) in production.
//
// # Errors
//
// A duplicate key (code 11000) is store.ErrAlreadyExists; no document is
// store.ErrNotFound; a network error, a timeout, a server selection
// failure or a "not now" server code (shutdown, stepdown, not primary) is
// store.ErrUnavailable. Matched by type and code, never by message.
//
// # Migrations and locks
//
// Migrate applies the versions not recorded in schema_migrations, in
// order, under the lock document "mongostore/migrate". WithAdvisoryLock
// (and so Migrate) inserts a lock document {owner, expires_at}; a held
// lock is taken over only once expired (a conditional update), so a
// crashed holder blocks others for at most the lock TTL; the holder
// renews it every third of the TTL and fn's context is cancelled if it
// was lost. Expiry is read on the replicas' clocks. A server without TTL
// indexes (FerretDB v1) is warned about, not refused.
package mongostore
