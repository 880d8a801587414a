package mongostore

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/authd/authd/pkg/store"
)

// mfaDoc is a user's second factor: the TOTP (when HasTOTP) and the
// recovery codes, in one document keyed by the user id, so that confirming
// a TOTP together with its codes, or deleting both, is one write.
// CodesRev counts changes of Codes: consuming a code is a compare-and-set
// on it.
type mfaDoc struct {
	UserID       string    `bson:"_id"`
	HasTOTP      bool      `bson:"has_totp"`
	SealedSecret []byte    `bson:"sealed_secret"`
	CreatedAt    int64     `bson:"created_at"`
	ConfirmedAt  int64     `bson:"confirmed_at"`
	LastStep     int64     `bson:"last_step"`
	Codes        []codeDoc `bson:"codes"`
	CodesRev     int64     `bson:"codes_rev"`
}

type codeDoc struct {
	Digest    []byte `bson:"digest"`
	CreatedAt int64  `bson:"created_at"`
	UsedAt    int64  `bson:"used_at"`
}

// challengeDoc is an MFA challenge; _id is its digest.
type challengeDoc struct {
	Digest            []byte    `bson:"_id"`
	Purpose           string    `bson:"purpose"`
	UserID            string    `bson:"user_id"`
	CredentialVersion int64     `bson:"credential_version"`
	Network           string    `bson:"network"`
	AMR               []string  `bson:"amr"`
	CreatedAt         int64     `bson:"created_at"`
	ExpiresAt         int64     `bson:"expires_at"`
	Failures          int       `bson:"failures"`
	UsedAt            int64     `bson:"used_at"`
	ExpireAt          time.Time `bson:"expire_at"`
}

func (d challengeDoc) challenge() store.MFAChallenge {
	return store.MFAChallenge{Digest: d.Digest, Purpose: d.Purpose, UserID: d.UserID, CredentialVersion: d.CredentialVersion,
		Network: d.Network, AMR: slices.Clone(list(d.AMR)), CreatedAt: fromMicros(d.CreatedAt), ExpiresAt: fromMicros(d.ExpiresAt),
		Failures: d.Failures}
}

// SetPendingTOTP upserts a pending secret: the update matches only an
// unconfirmed document, so for a confirmed one the upsert's insert hits
// the _id and fails with a duplicate key, store.ErrAlreadyExists.
func (s *Store) SetPendingTOTP(ctx context.Context, userID string, sealed []byte, at time.Time) error {
	if userID == "" || len(sealed) == 0 || at.IsZero() {
		return fmt.Errorf("mongostore: set pending TOTP: user, secret and time are required: %w", errInvalid)
	}
	if _, err := s.userVersion(ctx, userID); err != nil {
		return err
	}
	_, err := s.mfa.UpdateOne(ctx, bson.D{{Key: "_id", Value: userID}, {Key: "confirmed_at", Value: int64(0)}},
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "has_totp", Value: true}, {Key: "sealed_secret", Value: sealed},
				{Key: "created_at", Value: micros(at)}, {Key: "last_step", Value: int64(0)}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "codes", Value: bson.A{}}, {Key: "codes_rev", Value: int64(0)}}},
		}, options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("mongostore: TOTP of %q is confirmed: %w", userID, store.ErrAlreadyExists)
	}
	return mapErr("set pending TOTP", err)
}

// TOTP returns a user's TOTP; none is store.ErrNotFound.
func (s *Store) TOTP(ctx context.Context, userID string) (store.TOTP, error) {
	var d mfaDoc
	err := s.mfa.FindOne(ctx, bson.D{{Key: "_id", Value: userID}, {Key: "has_totp", Value: true}}).Decode(&d)
	if err := readErr(err, "TOTP", "TOTP of user", userID); err != nil {
		return store.TOTP{}, err
	}
	return store.TOTP{UserID: d.UserID, SealedSecret: d.SealedSecret, CreatedAt: fromMicros(d.CreatedAt),
		ConfirmedAt: fromMicros(d.ConfirmedAt), LastStep: d.LastStep}, nil
}

// newCodes is the stored form of a fresh set of recovery codes.
func newCodes(codes [][]byte, at time.Time) ([]codeDoc, error) {
	out := make([]codeDoc, len(codes))
	for i, c := range codes {
		if len(c) == 0 {
			return nil, fmt.Errorf("an empty digest: %w", errInvalid)
		}
		out[i] = codeDoc{Digest: c, CreatedAt: micros(at)}
	}
	return out, nil
}

// ConfirmTOTP confirms a pending TOTP and replaces the codes in one
// conditional update.
func (s *Store) ConfirmTOTP(ctx context.Context, userID string, step int64, codes [][]byte, at time.Time) error {
	if at.IsZero() || len(codes) == 0 {
		return fmt.Errorf("mongostore: confirm TOTP: time and recovery codes are required: %w", errInvalid)
	}
	cs, err := newCodes(codes, at)
	if err != nil {
		return fmt.Errorf("mongostore: confirm TOTP: %w", err)
	}
	res, err := s.mfa.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: userID}, {Key: "has_totp", Value: true}, {Key: "confirmed_at", Value: int64(0)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "confirmed_at", Value: micros(at)}, {Key: "last_step", Value: step}, {Key: "codes", Value: cs}}},
			{Key: "$inc", Value: bson.D{{Key: "codes_rev", Value: int64(1)}}}})
	return updateErr(res, err, "confirm TOTP", "pending TOTP of user", userID)
}

// AcceptTOTPStep claims (user, step) (one insert: of concurrent calls with
// one step exactly one wins, the others are store.ErrReplayed), then moves
// LastStep to step in one update conditional on last_step < step.
func (s *Store) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	t, err := s.TOTP(ctx, userID)
	if err != nil {
		return err
	}
	if !t.Confirmed() {
		return notFound("confirmed TOTP of user", userID)
	}
	if step <= t.LastStep {
		return fmt.Errorf("mongostore: TOTP step %d of %q: %w", step, userID, store.ErrReplayed)
	}
	won, err := s.claim(ctx, fmt.Sprintf("totp:%d:%s:%d:%d", len(userID), userID, t.ConfirmedAt.UnixMicro(), step), userID, time.Time{})
	if err != nil {
		return err
	}
	if !won {
		return fmt.Errorf("mongostore: TOTP step %d of %q: %w", step, userID, store.ErrReplayed)
	}
	res, err := s.mfa.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: userID}, {Key: "has_totp", Value: true}, {Key: "confirmed_at", Value: bson.D{{Key: "$ne", Value: int64(0)}}},
			{Key: "last_step", Value: bson.D{{Key: "$lt", Value: step}}}},
		set(bson.E{Key: "last_step", Value: step}))
	if err != nil {
		return mapErr("accept TOTP step", err)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	// A later step was accepted, or the TOTP deleted, since the read.
	if _, err := s.TOTP(ctx, userID); err != nil {
		return err
	}
	return fmt.Errorf("mongostore: TOTP step %d of %q: %w", step, userID, store.ErrReplayed)
}

// DeleteTOTP deletes the user's MFA document: TOTP and codes at once.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	res, err := s.mfa.DeleteOne(ctx, bson.D{{Key: "_id", Value: userID}, {Key: "has_totp", Value: true}})
	if err != nil {
		return mapErr("delete TOTP", err)
	}
	if res.DeletedCount == 0 {
		return notFound("TOTP of user", userID)
	}
	return nil
}

// ReplaceRecoveryCodes replaces the codes in one update (upserting the
// document of a user without a TOTP).
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, codes [][]byte, at time.Time) error {
	if at.IsZero() || len(codes) == 0 {
		return fmt.Errorf("mongostore: replace recovery codes: time and codes are required: %w", errInvalid)
	}
	cs, err := newCodes(codes, at)
	if err != nil {
		return fmt.Errorf("mongostore: replace recovery codes: %w", err)
	}
	if _, err := s.userVersion(ctx, userID); err != nil {
		return err
	}
	_, err = s.mfa.UpdateOne(ctx, byID(userID), bson.D{
		{Key: "$set", Value: bson.D{{Key: "codes", Value: cs}}},
		{Key: "$inc", Value: bson.D{{Key: "codes_rev", Value: int64(1)}}},
		{Key: "$setOnInsert", Value: bson.D{{Key: "has_totp", Value: false}, {Key: "confirmed_at", Value: int64(0)}, {Key: "last_step", Value: int64(0)}}},
	}, options.UpdateOne().SetUpsert(true))
	return mapErr("replace recovery codes", err)
}

func (s *Store) mfaDoc(ctx context.Context, userID string) (mfaDoc, bool, error) {
	var d mfaDoc
	err := s.mfa.FindOne(ctx, byID(userID)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return d, false, nil
	}
	if err != nil {
		return d, false, mapErr("read recovery codes", err)
	}
	return d, true, nil
}

// ConsumeRecoveryCode claims an unused code of the user (one insert: of
// concurrent calls with one code exactly one wins, the others are
// store.ErrNotFound), then marks it used: the codes array is rewritten with
// one update conditional on codes_rev (compare-and-set, retried).
func (s *Store) ConsumeRecoveryCode(ctx context.Context, userID string, digest []byte, at time.Time) error {
	claimed := false
	for range 8 {
		d, ok, err := s.mfaDoc(ctx, userID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(d.Codes, func(c codeDoc) bool { return c.UsedAt == 0 && bytes.Equal(c.Digest, digest) })
		if !ok || i < 0 {
			return notFound("recovery code of user", userID)
		}
		if !claimed {
			key := fmt.Sprintf("code:%d:%s:%d:%s", len(userID), userID, d.Codes[i].CreatedAt, hex.EncodeToString(digest))
			won, err := s.claim(ctx, key, userID, time.Time{})
			if err != nil {
				return err
			}
			if !won {
				return notFound("recovery code of user", userID)
			}
			claimed = true
		}
		codes := slices.Clone(d.Codes)
		codes[i].UsedAt = micros(at)
		res, err := s.mfa.UpdateOne(ctx, bson.D{{Key: "_id", Value: userID}, {Key: "codes_rev", Value: d.CodesRev}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "codes", Value: codes}}}, {Key: "$inc", Value: bson.D{{Key: "codes_rev", Value: int64(1)}}}})
		if err != nil {
			return mapErr("consume recovery code", err)
		}
		if res.MatchedCount == 1 {
			return nil
		}
	}
	return fmt.Errorf("mongostore: consume recovery code of %q: the codes kept changing", userID)
}

// RecoveryCodesLeft counts the user's unused codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	d, _, err := s.mfaDoc(ctx, userID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range d.Codes {
		if c.UsedAt == 0 {
			n++
		}
	}
	return n, nil
}

// CreateMFAChallenge prunes the user's used and expired challenges, then
// inserts c.
func (s *Store) CreateMFAChallenge(ctx context.Context, c store.MFAChallenge) error {
	if len(c.Digest) == 0 || c.Purpose == "" || c.UserID == "" || c.ExpiresAt.IsZero() {
		return fmt.Errorf("mongostore: create MFA challenge: Digest, Purpose, UserID and ExpiresAt are required: %w", errInvalid)
	}
	if err := checkList("amr", c.AMR); err != nil {
		return fmt.Errorf("mongostore: create MFA challenge: %w", err)
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if _, err := s.userVersion(ctx, c.UserID); err != nil {
		return err
	}
	if _, err := s.challenges.DeleteMany(ctx, bson.D{{Key: "user_id", Value: c.UserID}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "used_at", Value: bson.D{{Key: "$ne", Value: int64(0)}}}},
		bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lte", Value: micros(c.CreatedAt)}}}},
	}}}); err != nil {
		return mapErr("create MFA challenge: prune", err)
	}
	d := challengeDoc{Digest: c.Digest, Purpose: c.Purpose, UserID: c.UserID, CredentialVersion: c.CredentialVersion,
		Network: c.Network, AMR: list(c.AMR), CreatedAt: micros(c.CreatedAt), ExpiresAt: micros(c.ExpiresAt), ExpireAt: c.ExpiresAt}
	if _, err := s.challenges.InsertOne(ctx, d); err != nil {
		return mapErr("create MFA challenge", err)
	}
	return nil
}

// challengeLive matches a live challenge: unused, unexpired, failures
// below max. It is the whole validity test of every challenge update.
func challengeLive(digest []byte, purpose string, maxFailures int, now time.Time) bson.D {
	return bson.D{{Key: "_id", Value: digest}, {Key: "purpose", Value: purpose}, {Key: "used_at", Value: int64(0)},
		{Key: "expires_at", Value: gtNow(now)}, {Key: "failures", Value: bson.D{{Key: "$lt", Value: maxFailures}}}}
}

// MFAChallenge returns a live challenge; anything else is
// store.ErrNotFound.
func (s *Store) MFAChallenge(ctx context.Context, digest []byte, purpose string, maxFailures int, now time.Time) (store.MFAChallenge, error) {
	var d challengeDoc
	err := s.challenges.FindOne(ctx, challengeLive(digest, purpose, maxFailures, now)).Decode(&d)
	return challengeResult("read", err, &d)
}

// FailMFAChallenge counts a failure against a live challenge (one
// conditional update).
func (s *Store) FailMFAChallenge(ctx context.Context, digest []byte, purpose string, maxFailures int, now time.Time) (store.MFAChallenge, error) {
	var d challengeDoc
	err := s.challenges.FindOneAndUpdate(ctx, challengeLive(digest, purpose, maxFailures, now),
		bson.D{{Key: "$inc", Value: bson.D{{Key: "failures", Value: 1}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	return challengeResult("fail", err, &d)
}

// ConsumeMFAChallenge finds a live challenge, claims its digest (one
// insert: of concurrent calls exactly one wins, the others are
// store.ErrNotFound) and marks it used with an update conditional on its
// being live.
func (s *Store) ConsumeMFAChallenge(ctx context.Context, digest []byte, purpose string, maxFailures int, now time.Time) (store.MFAChallenge, error) {
	c, err := s.MFAChallenge(ctx, digest, purpose, maxFailures, now)
	if err != nil {
		return c, err
	}
	won, err := s.claim(ctx, "mfa:"+hex.EncodeToString(digest), c.UserID, c.ExpiresAt)
	if err != nil {
		return store.MFAChallenge{}, err
	}
	if !won {
		return store.MFAChallenge{}, fmt.Errorf("mongostore: MFA challenge: %w", store.ErrNotFound)
	}
	var d challengeDoc
	err = s.challenges.FindOneAndUpdate(ctx, challengeLive(digest, purpose, maxFailures, now),
		set(bson.E{Key: "used_at", Value: micros(now)}),
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	return challengeResult("consume", err, &d)
}

func challengeResult(op string, err error, d *challengeDoc) (store.MFAChallenge, error) {
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return store.MFAChallenge{}, fmt.Errorf("mongostore: MFA challenge: %w", store.ErrNotFound)
	case err != nil:
		return store.MFAChallenge{}, mapErr(op+" MFA challenge", err)
	}
	return d.challenge(), nil
}
