package mongostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/authd/authd/pkg/store"
)

// sessionDoc is a session with its refresh state: every rotation is one
// conditional update of it.
type sessionDoc struct {
	ID              string   `bson:"_id"`
	UserID          string   `bson:"user_id"`
	ClientID        string   `bson:"client_id"`
	UserAgent       string   `bson:"user_agent"`
	IP              string   `bson:"ip"`
	RefreshJTI      string   `bson:"refresh_jti"`
	RefreshIssuedAt int64    `bson:"refresh_issued_at"`
	ExpiresAt       int64    `bson:"expires_at"`
	PrevRefreshJTI  string   `bson:"prev_refresh_jti"`
	RotatedAt       int64    `bson:"rotated_at"`
	CreatedAt       int64    `bson:"created_at"`
	LastRefreshedAt int64    `bson:"last_refreshed_at"`
	RevokedAt       int64    `bson:"revoked_at"`
	CredVersion     int64    `bson:"credential_version"`
	AMR             []string `bson:"amr"`
	AuthTime        int64    `bson:"auth_time"`
	// ExpireAt is ExpiresAt as a BSON date, for the TTL index only.
	ExpireAt time.Time `bson:"expire_at"`
}

func (d sessionDoc) session() store.Session {
	return store.Session{
		ID: d.ID, UserID: d.UserID, ClientID: d.ClientID, UserAgent: d.UserAgent, IP: d.IP,
		RefreshJTI: d.RefreshJTI, RefreshIssuedAt: fromMicros(d.RefreshIssuedAt), ExpiresAt: fromMicros(d.ExpiresAt),
		PrevRefreshJTI: d.PrevRefreshJTI, RotatedAt: fromMicros(d.RotatedAt), CreatedAt: fromMicros(d.CreatedAt),
		LastRefreshedAt: fromMicros(d.LastRefreshedAt), RevokedAt: fromMicros(d.RevokedAt),
		AMR: slices.Clone(list(d.AMR)), AuthTime: fromMicros(d.AuthTime), CredentialVersion: d.CredVersion,
	}
}

// checkList refuses a value that is empty or holds white space, as the SQL
// backends do (their lists are space-separated), so that every backend
// accepts the same values.
func checkList(what string, values []string) error {
	for _, v := range values {
		if v == "" || strings.ContainsFunc(v, unicode.IsSpace) {
			return fmt.Errorf("%s: a value is empty or contains white space: %w", what, errInvalid)
		}
	}
	return nil
}

// gtNow is the filter value {$gt: now}.
func gtNow(now time.Time) bson.D { return bson.D{{Key: "$gt", Value: micros(now)}} }

// CreateSession starts a session while the user's credential version is
// still s.CredentialVersion. No step writes the user document:
//
//  1. the user's version is read, and the call fails unless it is
//     s.CredentialVersion (store.ErrCredentialsChanged; no user:
//     store.ErrNotFound);
//  2. the session is inserted, carrying that version (a taken id is
//     store.ErrAlreadyExists);
//  3. the version is read again: if it moved, or the user is gone, the
//     session is deleted and the call fails the same way;
//  4. the user's login document moves last_login_at forward ($max).
//
// A credential change (reset, disable, sign-out everywhere) that lands
// between 1 and 3 is seen by 3. Until 3 deletes it, the session exists at
// the old version, which nothing treats as live (RotateRefresh,
// ListSessions and StepUpSession compare it with the user's), so no caller
// can use it; and the change, which bumps the version before revoking,
// needs to see it no more than the SQL backends' does. A change after 3
// comes after the login, as there.
func (s *Store) CreateSession(ctx context.Context, ns store.NewSession) (store.Session, error) {
	if ns.ID == "" || ns.UserID == "" || ns.RefreshJTI == "" || ns.RefreshIssuedAt.IsZero() || ns.ExpiresAt.IsZero() {
		return store.Session{}, fmt.Errorf("mongostore: create session: ID, UserID, RefreshJTI, RefreshIssuedAt and ExpiresAt are required: %w", errInvalid)
	}
	if err := checkList("amr", ns.AMR); err != nil {
		return store.Session{}, fmt.Errorf("mongostore: create session: %w", err)
	}
	sess := store.Session{
		ID: ns.ID, UserID: ns.UserID, ClientID: ns.ClientID, UserAgent: ns.UserAgent, IP: ns.IP,
		RefreshJTI: ns.RefreshJTI, RefreshIssuedAt: canon(ns.RefreshIssuedAt), ExpiresAt: canon(ns.ExpiresAt),
		CreatedAt: canon(ns.RefreshIssuedAt), LastRefreshedAt: canon(ns.RefreshIssuedAt),
		AMR: slices.Clone(list(ns.AMR)), AuthTime: canon(ns.AuthTime), CredentialVersion: ns.CredentialVersion,
	}
	if sess.AuthTime.IsZero() {
		sess.AuthTime = sess.CreatedAt
	}
	if err := s.requireVersion(ctx, ns.UserID, ns.CredentialVersion); err != nil {
		return store.Session{}, err
	}
	doc := sessionDoc{
		ID: sess.ID, UserID: sess.UserID, ClientID: sess.ClientID, UserAgent: sess.UserAgent, IP: sess.IP,
		RefreshJTI: sess.RefreshJTI, RefreshIssuedAt: micros(sess.RefreshIssuedAt), ExpiresAt: micros(sess.ExpiresAt),
		CreatedAt: micros(sess.CreatedAt), LastRefreshedAt: micros(sess.LastRefreshedAt), CredVersion: sess.CredentialVersion,
		AMR: sess.AMR, AuthTime: micros(sess.AuthTime), ExpireAt: sess.ExpiresAt,
	}
	if _, err := s.sessions.InsertOne(ctx, doc); err != nil {
		return store.Session{}, mapErr("create session", err)
	}
	if err := s.requireVersion(ctx, ns.UserID, ns.CredentialVersion); err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrCredentialsChanged) {
			// Dead on arrival: take it back. Were this to fail, the
			// session stays unusable all the same (its version is not the
			// user's, or it has no user).
			if _, derr := s.sessions.DeleteOne(context.WithoutCancel(ctx), byID(ns.ID)); derr != nil {
				s.cfg.logger.Warn("mongostore: delete a session created across a credential change", "err", derr)
			}
		}
		return store.Session{}, err
	}
	_, err := s.logins.UpdateOne(ctx, byID(ns.UserID),
		bson.D{{Key: "$max", Value: bson.D{{Key: "last_login_at", Value: micros(sess.CreatedAt)}}}},
		options.UpdateOne().SetUpsert(true))
	if err != nil {
		return store.Session{}, mapErr("create session: last login", err)
	}
	return sess, nil
}

// requireVersion is nil when the user's credential version is version,
// store.ErrCredentialsChanged when it is another, store.ErrNotFound when
// there is no such user.
func (s *Store) requireVersion(ctx context.Context, userID string, version int64) error {
	v, err := s.userVersion(ctx, userID)
	if err != nil {
		return err
	}
	if v != version {
		return fmt.Errorf("mongostore: user %q: %w", userID, store.ErrCredentialsChanged)
	}
	return nil
}

// Session returns a session by id, revoked or not, or store.ErrNotFound.
// The service never reads a session by id alone; the conformance suite
// (storetest.Store) reads what a call left behind with it, from the test
// module that runs it against FerretDB, which is why it is exported here
// where sqlstore keeps it in export_test.go.
func (s *Store) Session(ctx context.Context, id string) (store.Session, error) {
	var d sessionDoc
	if err := readErr(s.sessions.FindOne(ctx, byID(id)).Decode(&d), "get session", "session", id); err != nil {
		return store.Session{}, err
	}
	return d.session(), nil
}

// liveFilter matches the user's sessions that could still rotate at now
// given the user's credential version.
func liveFilter(userID string, version int64, now time.Time) bson.D {
	return bson.D{{Key: "user_id", Value: userID}, {Key: "revoked_at", Value: int64(0)},
		{Key: "expires_at", Value: gtNow(now)}, {Key: "credential_version", Value: version}}
}

// ListSessions reads the user's version, then the sessions live at it,
// newest first. An unknown user has none.
func (s *Store) ListSessions(ctx context.Context, userID string, now time.Time) ([]store.Session, error) {
	v, err := s.userVersion(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return []store.Session{}, nil
	}
	if err != nil {
		return nil, err
	}
	var docs []sessionDoc
	opts := options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}})
	if err := findAll(ctx, s.sessions, liveFilter(userID, v, now), opts, &docs); err != nil {
		return nil, mapErr("list sessions", err)
	}
	out := make([]store.Session, len(docs))
	for i, d := range docs {
		out[i] = d.session()
	}
	return out, nil
}

// RevokeSession revokes one of the user's sessions, keeping the first
// revocation time.
func (s *Store) RevokeSession(ctx context.Context, userID, sessionID string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("mongostore: revoke session: zero time: %w", errInvalid)
	}
	own := bson.D{{Key: "_id", Value: sessionID}, {Key: "user_id", Value: userID}}
	res, err := s.sessions.UpdateOne(ctx, append(own, bson.E{Key: "revoked_at", Value: int64(0)}),
		set(bson.E{Key: "revoked_at", Value: micros(at)}))
	if err != nil {
		return mapErr("revoke session", err)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	n, err := s.sessions.CountDocuments(ctx, own)
	if err != nil {
		return mapErr("revoke session", err)
	}
	if n == 0 {
		return notFound("session", sessionID)
	}
	return nil // revoked already
}

// RevokeUserSessions bumps the user's credential version first (one
// update, returning the new version), carries exceptSessionID to it, then
// revokes the user's other live sessions. The bump is what makes it
// complete: a session created before it and missed by the revocation, or
// created concurrently at the old version, is dead by version.
func (s *Store) RevokeUserSessions(ctx context.Context, userID, exceptSessionID string, at time.Time) ([]string, error) {
	if at.IsZero() {
		return nil, fmt.Errorf("mongostore: revoke user sessions: zero time: %w", errInvalid)
	}
	var u struct {
		V int64 `bson:"credential_version"`
	}
	err := s.users.FindOneAndUpdate(ctx, byID(userID),
		bson.D{{Key: "$inc", Value: bson.D{{Key: "credential_version", Value: int64(1)}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&u)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		// No such user: nothing to bump, nothing to carry.
	case err != nil:
		return nil, mapErr("revoke user sessions: bump version", err)
	case exceptSessionID != "":
		if err := s.carry(ctx, userID, exceptSessionID, u.V-1, u.V); err != nil {
			return nil, err
		}
	}
	filter := bson.D{{Key: "user_id", Value: userID}, {Key: "_id", Value: bson.D{{Key: "$ne", Value: exceptSessionID}}},
		{Key: "revoked_at", Value: int64(0)}, {Key: "expires_at", Value: gtNow(at)}}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := findAll(ctx, s.sessions, filter, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}), &docs); err != nil {
		return nil, mapErr("revoke user sessions: list", err)
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	if len(ids) > 0 {
		if _, err := s.sessions.UpdateMany(ctx,
			bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "revoked_at", Value: int64(0)}},
			set(bson.E{Key: "revoked_at", Value: micros(at)})); err != nil {
			return nil, mapErr("revoke user sessions", err)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// StepUpSession reads the user's version, then sets amr and auth time on
// the session in one update conditional on its being live at that version.
func (s *Store) StepUpSession(ctx context.Context, userID, sessionID string, amr []string, at time.Time) (store.Session, error) {
	if at.IsZero() || len(amr) == 0 {
		return store.Session{}, fmt.Errorf("mongostore: step up session: amr and time are required: %w", errInvalid)
	}
	if err := checkList("amr", amr); err != nil {
		return store.Session{}, fmt.Errorf("mongostore: step up session: %w", err)
	}
	v, err := s.userVersion(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, notFound("live session", sessionID)
	}
	if err != nil {
		return store.Session{}, err
	}
	filter := append(bson.D{{Key: "_id", Value: sessionID}}, liveFilter(userID, v, at)...)
	var d sessionDoc
	err = s.sessions.FindOneAndUpdate(ctx, filter,
		set(bson.E{Key: "amr", Value: slices.Clone(amr)}, bson.E{Key: "auth_time", Value: micros(at)}),
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return store.Session{}, notFound("live session", sessionID)
	}
	if err != nil {
		return store.Session{}, mapErr("step up session", err)
	}
	return d.session(), nil
}
