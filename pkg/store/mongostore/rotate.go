package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/authd/authd/pkg/store"
)

// rotateFilter matches the session only while the presented jti is its
// current one and it is unrevoked and unexpired: of concurrent callers
// presenting the same jti, the server lets exactly one update match.
func rotateFilter(r store.Rotation) bson.D {
	return bson.D{{Key: "_id", Value: r.SessionID}, {Key: "refresh_jti", Value: r.PresentedJTI},
		{Key: "revoked_at", Value: int64(0)}, {Key: "expires_at", Value: gtNow(r.Now)}}
}

// rotateUpdate is the rotation's $set; rotated applies the same change to
// the session as it was read, so the result needs no second read.
func rotateUpdate(r store.Rotation) bson.D {
	f := bson.D{
		{Key: "prev_refresh_jti", Value: r.PresentedJTI},
		{Key: "refresh_jti", Value: r.NewJTI},
		{Key: "refresh_issued_at", Value: micros(r.NewIssuedAt)},
		{Key: "expires_at", Value: micros(r.NewExpiresAt)},
		{Key: "expire_at", Value: r.NewExpiresAt},
		{Key: "rotated_at", Value: micros(r.Now)},
		{Key: "last_refreshed_at", Value: micros(r.Now)},
	}
	if r.UserAgent != "" {
		f = append(f, bson.E{Key: "user_agent", Value: r.UserAgent})
	}
	if r.IP != "" {
		f = append(f, bson.E{Key: "ip", Value: r.IP})
	}
	return set(f...)
}

func rotated(sess store.Session, r store.Rotation) store.Session {
	sess.PrevRefreshJTI, sess.RefreshJTI = r.PresentedJTI, r.NewJTI
	sess.RefreshIssuedAt, sess.ExpiresAt = canon(r.NewIssuedAt), canon(r.NewExpiresAt)
	sess.RotatedAt, sess.LastRefreshedAt = canon(r.Now), canon(r.Now)
	if r.UserAgent != "" {
		sess.UserAgent = r.UserAgent
	}
	if r.IP != "" {
		sess.IP = r.IP
	}
	return sess
}

// rotationClaim is the claim key of rotating away from the presented jti.
func rotationClaim(r store.Rotation) string {
	return fmt.Sprintf("rotate:%d:%s:%s", len(r.SessionID), r.SessionID, r.PresentedJTI)
}

// RotateRefresh rotates a session's refresh token; see store.Store for the
// outcomes and the package doc for why it is atomic.
//
// The common case is three round trips: the claim of (session, presented
// jti), which one caller only can insert; findOneAndUpdate on
// rotateFilter, returning the session as it was; and the owner, read
// after the update. store.DecideRotation is applied to the session as it
// was with the owner's version as read: a credential change that landed
// before that read makes the call store.ErrSessionRevoked (the session it
// rotated is dead by version, so nothing can use the new token); one that
// lands after it comes after the rotation. A caller whose claim lost, or
// whose update matched nothing, reads the session and owner and lets
// DecideRotation classify: a replay in grace is answered from the read, a
// reuse revokes the session with one conditional update, and a token that
// is still current while another caller holds its claim is waited for
// until that caller's update lands.
func (s *Store) RotateRefresh(ctx context.Context, r store.Rotation) (store.RotationResult, error) {
	if r.SessionID == "" || r.PresentedJTI == "" || r.NewJTI == "" || r.Now.IsZero() ||
		r.NewIssuedAt.IsZero() || r.NewExpiresAt.IsZero() || r.Grace < 0 {
		return store.RotationResult{}, fmt.Errorf("mongostore: rotate refresh: SessionID, PresentedJTI, NewJTI, NewIssuedAt, NewExpiresAt and Now are required, Grace >= 0: %w", errInvalid)
	}
	// The claim may outlive the session's current expiry: the presented
	// token cannot be alive after the successor's.
	won, err := s.claim(ctx, rotationClaim(r), "", r.NewExpiresAt)
	if err != nil {
		return store.RotationResult{}, err
	}
	for round := 0; ; round++ {
		if won {
			res, done, err := s.tryRotate(ctx, r)
			if err != nil || done {
				return res, err
			}
		}
		sess, err := s.Session(ctx, r.SessionID)
		if err != nil {
			return store.RotationResult{}, err
		}
		u, err := s.UserByID(ctx, sess.UserID)
		if errors.Is(err, store.ErrNotFound) {
			return store.RotationResult{}, revoked(r)
		}
		if err != nil {
			return store.RotationResult{}, err
		}
		switch store.DecideRotation(sess, u.CredentialVersion, r) {
		case store.RotateDead:
			return store.RotationResult{}, revoked(r)
		case store.RotateFresh:
			if round >= maxClaimWaits {
				return store.RotationResult{}, fmt.Errorf("mongostore: session %q: a rotation of this token is in progress elsewhere: %w", r.SessionID, store.ErrUnavailable)
			}
			if won {
				continue // the session changed between the update and the read
			}
			// Another caller holds the claim and has not written yet.
			select {
			case <-ctx.Done():
				return store.RotationResult{}, mapErr("rotate refresh", ctx.Err())
			case <-time.After(claimWait):
			}
		case store.RotateReplay:
			return store.RotationResult{Session: sess, User: u, Replayed: true}, nil
		default:
			_, err := s.sessions.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.SessionID}, {Key: "revoked_at", Value: int64(0)}},
				set(bson.E{Key: "revoked_at", Value: micros(r.Now)}))
			if err != nil {
				return store.RotationResult{}, mapErr("rotate refresh: revoke reused session", err)
			}
			return store.RotationResult{}, fmt.Errorf("mongostore: session %q: %w", r.SessionID, store.ErrRefreshReused)
		}
	}
}

// A caller that lost a claim waits for the winner's write: at most
// maxClaimWaits reads, claimWait apart. A winner that crashed between its
// claim and its update leaves the token unable to rotate (its user signs
// in again); the wait bounds how long a caller learns that.
const (
	maxClaimWaits = 200
	claimWait     = 10 * time.Millisecond
)

func revoked(r store.Rotation) error {
	return fmt.Errorf("mongostore: session %q: %w", r.SessionID, store.ErrSessionRevoked)
}

// tryRotate runs the conditional update; done is false when it matched
// nothing.
func (s *Store) tryRotate(ctx context.Context, r store.Rotation) (res store.RotationResult, done bool, err error) {
	var before sessionDoc
	err = s.sessions.FindOneAndUpdate(ctx, rotateFilter(r), rotateUpdate(r),
		options.FindOneAndUpdate().SetReturnDocument(options.Before)).Decode(&before)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return res, false, nil
	}
	if err != nil {
		return res, true, mapErr("rotate refresh", err)
	}
	sess := before.session()
	u, err := s.UserByID(ctx, sess.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return res, true, revoked(r)
	}
	if err != nil {
		return res, true, err
	}
	if store.DecideRotation(sess, u.CredentialVersion, r) != store.RotateFresh {
		// The owner's version is not the session's: it was dead, and
		// stays so (versions only move forward, and a carry moves only a
		// session at the version being left).
		return res, true, revoked(r)
	}
	return store.RotationResult{Session: rotated(sess, r), User: u}, true, nil
}
