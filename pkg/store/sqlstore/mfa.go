package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/authd/authd/pkg/store"
)

const (
	totpCols      = `user_id, sealed_secret, created_at, confirmed_at, last_step`
	challengeCols = `digest, purpose, user_id, credential_version, network, amr, created_at, expires_at, failures`
	// challengeLive is the whole validity test of a challenge, so that
	// the row lock (or SQLite's single writer) lets one of concurrent
	// callers through and the others re-check a row that changed.
	challengeLive = `digest = ? AND purpose = ? AND used_at IS NULL AND expires_at > ? AND failures < ?`
)

type mfaQueries struct {
	setPending, totp, confirm, accept, deleteTOTP              string
	deleteCodes, consumeCode, codesLeft                        string
	pruneChallenges, insertChallenge, challenge, fail, consume string
	// MySQL only: challengeByDigest reads a challenge back after fail or
	// consume (updateReturning); totpConfirmed tells whether setPending
	// met a confirmed secret, which its upsert leaves unchanged.
	challengeByDigest, totpConfirmed string
}

func newMFAQueries(d dialect) mfaQueries {
	q := mfaQueries{
		// A pending secret is replaced; a confirmed one stays, and the
		// update matches nothing, which the caller reads as "exists".
		setPending: d.rebind(`INSERT INTO user_totp (user_id, sealed_secret, created_at, confirmed_at, last_step)
			VALUES (?, ?, ?, NULL, 0)
			ON CONFLICT (user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, created_at = excluded.created_at
			WHERE user_totp.confirmed_at IS NULL`),
		totp:       d.rebind(`SELECT ` + totpCols + ` FROM user_totp WHERE user_id = ?`),
		confirm:    d.rebind(`UPDATE user_totp SET confirmed_at = ?, last_step = ? WHERE user_id = ? AND confirmed_at IS NULL`),
		accept:     d.rebind(`UPDATE user_totp SET last_step = ? WHERE user_id = ? AND confirmed_at IS NOT NULL AND last_step < ?`),
		deleteTOTP: d.rebind(`DELETE FROM user_totp WHERE user_id = ?`),

		deleteCodes: d.rebind(`DELETE FROM recovery_codes WHERE user_id = ?`),
		consumeCode: d.rebind(`UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND digest = ? AND used_at IS NULL`),
		codesLeft:   d.rebind(`SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`),

		pruneChallenges: d.rebind(`DELETE FROM mfa_challenges WHERE user_id = ? AND (used_at IS NOT NULL OR expires_at <= ?)`),
		insertChallenge: d.rebind(`INSERT INTO mfa_challenges (` + challengeCols + `, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, NULL)`),
		challenge:       d.rebind(`SELECT ` + challengeCols + ` FROM mfa_challenges WHERE ` + challengeLive),
		fail:            d.rebind(`UPDATE mfa_challenges SET failures = failures + 1 WHERE ` + challengeLive + d.returning(challengeCols)),
		consume:         d.rebind(`UPDATE mfa_challenges SET used_at = ? WHERE ` + challengeLive + d.returning(challengeCols)),

		challengeByDigest: d.rebind(`SELECT ` + challengeCols + ` FROM mfa_challenges WHERE digest = ?`),
		totpConfirmed:     d.rebind(`SELECT confirmed_at IS NOT NULL FROM user_totp WHERE user_id = ?`),
	}
	if d.mysql {
		// No ON CONFLICT ... WHERE: the upsert keeps a confirmed row's
		// values (IF), and SetPendingTOTP then reads whether it was one.
		// VALUES() is deprecated on MySQL 8.0.20+ but is what both MySQL
		// and MariaDB accept.
		q.setPending = d.rebind(`INSERT INTO user_totp (user_id, sealed_secret, created_at, confirmed_at, last_step)
			VALUES (?, ?, ?, NULL, 0)
			ON DUPLICATE KEY UPDATE
				sealed_secret = IF(confirmed_at IS NULL, VALUES(sealed_secret), sealed_secret),
				created_at = IF(confirmed_at IS NULL, VALUES(created_at), created_at)`)
	}
	return q
}

type totpRow struct {
	UserID       string `db:"user_id"`
	SealedSecret []byte `db:"sealed_secret"`
	CreatedAt    dbTime `db:"created_at"`
	ConfirmedAt  dbTime `db:"confirmed_at"`
	LastStep     int64  `db:"last_step"`
}

type challengeRow struct {
	Digest            []byte `db:"digest"`
	Purpose           string `db:"purpose"`
	UserID            string `db:"user_id"`
	CredentialVersion int64  `db:"credential_version"`
	Network           string `db:"network"`
	AMR               string `db:"amr"`
	CreatedAt         dbTime `db:"created_at"`
	ExpiresAt         dbTime `db:"expires_at"`
	Failures          int    `db:"failures"`
}

func (r challengeRow) challenge() store.MFAChallenge {
	return store.MFAChallenge{
		Digest: r.Digest, Purpose: r.Purpose, UserID: r.UserID, CredentialVersion: r.CredentialVersion,
		Network: r.Network, AMR: splitList(r.AMR), CreatedAt: r.CreatedAt.Time(), ExpiresAt: r.ExpiresAt.Time(),
		Failures: r.Failures,
	}
}

// SetPendingTOTP stores an unconfirmed secret, replacing a pending one; a
// confirmed one is store.ErrAlreadyExists, an unknown user
// store.ErrNotFound.
func (s *Store) SetPendingTOTP(ctx context.Context, userID string, sealed []byte, at time.Time) error {
	if userID == "" || len(sealed) == 0 || at.IsZero() {
		return fmt.Errorf("sqlstore: set pending TOTP: user, secret and time are required: %w", errInvalid)
	}
	if s.d.mysql {
		return s.setPendingTOTPMySQL(ctx, userID, sealed, at)
	}
	res, err := exec(ctx, s.wq, s.mq.setPending, userID, sealed, dbTime(at))
	if err != nil {
		return mapWriteErr("set pending TOTP", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: rows affected: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: TOTP of %q is confirmed: %w", userID, store.ErrAlreadyExists)
	}
	return nil
}

// setPendingTOTPMySQL is SetPendingTOTP on MySQL: the upsert, then a read
// of the row it locked, in one transaction.
func (s *Store) setPendingTOTPMySQL(ctx context.Context, userID string, sealed []byte, at time.Time) error {
	var confirmed bool
	err := s.inTx(ctx, func(tx runner) error {
		if _, err := exec(ctx, tx, s.mq.setPending, userID, sealed, dbTime(at)); err != nil {
			return err
		}
		return get(ctx, tx, &confirmed, s.mq.totpConfirmed, userID)
	})
	switch {
	case err != nil:
		return mapWriteErr("set pending TOTP", err)
	case confirmed:
		return fmt.Errorf("sqlstore: TOTP of %q is confirmed: %w", userID, store.ErrAlreadyExists)
	}
	return nil
}

// TOTP returns a user's TOTP; none is store.ErrNotFound.
func (s *Store) TOTP(ctx context.Context, userID string) (store.TOTP, error) {
	var row totpRow
	err := get(ctx, s.rq, &row, s.mq.totp, userID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.TOTP{}, fmt.Errorf("sqlstore: TOTP of %q: %w", userID, store.ErrNotFound)
	case err != nil:
		return store.TOTP{}, fmt.Errorf("sqlstore: TOTP: %w", err)
	}
	return store.TOTP{UserID: row.UserID, SealedSecret: row.SealedSecret, CreatedAt: row.CreatedAt.Time(),
		ConfirmedAt: row.ConfirmedAt.Time(), LastStep: row.LastStep}, nil
}

// ConfirmTOTP activates a pending TOTP at step and replaces the recovery
// codes, in one transaction; no pending TOTP is store.ErrNotFound.
func (s *Store) ConfirmTOTP(ctx context.Context, userID string, step int64, codes [][]byte, at time.Time) error {
	if at.IsZero() || len(codes) == 0 {
		return fmt.Errorf("sqlstore: confirm TOTP: time and recovery codes are required: %w", errInvalid)
	}
	return s.inTx(ctx, func(tx runner) error {
		res, err := exec(ctx, tx, s.mq.confirm, dbTime(at), step, userID)
		if err != nil {
			return fmt.Errorf("sqlstore: confirm TOTP: %w", err)
		}
		if err := requireRow(res, "pending TOTP of user", userID); err != nil {
			return err
		}
		return s.replaceCodes(ctx, tx, userID, codes, at)
	})
}

// AcceptTOTPStep moves LastStep to step if it is later; otherwise
// store.ErrReplayed (no confirmed TOTP: store.ErrNotFound).
func (s *Store) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	res, err := exec(ctx, s.wq, s.mq.accept, step, userID, step)
	if err != nil {
		return fmt.Errorf("sqlstore: accept TOTP step: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: rows affected: %w", err)
	}
	if n == 1 {
		return nil
	}
	// Nothing matched: say why, reading the row the update left alone.
	t, err := s.TOTP(ctx, userID)
	if err != nil {
		return err
	}
	if !t.Confirmed() {
		return fmt.Errorf("sqlstore: TOTP of %q is pending: %w", userID, store.ErrNotFound)
	}
	return fmt.Errorf("sqlstore: TOTP step %d of %q: %w", step, userID, store.ErrReplayed)
}

// DeleteTOTP removes a user's TOTP and recovery codes; none is
// store.ErrNotFound.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	return s.inTx(ctx, func(tx runner) error {
		if _, err := exec(ctx, tx, s.mq.deleteCodes, userID); err != nil {
			return fmt.Errorf("sqlstore: delete recovery codes: %w", err)
		}
		res, err := exec(ctx, tx, s.mq.deleteTOTP, userID)
		if err != nil {
			return fmt.Errorf("sqlstore: delete TOTP: %w", err)
		}
		return requireRow(res, "TOTP of user", userID)
	})
}

// ReplaceRecoveryCodes replaces a user's recovery codes in one
// transaction.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, codes [][]byte, at time.Time) error {
	if at.IsZero() || len(codes) == 0 {
		return fmt.Errorf("sqlstore: replace recovery codes: time and codes are required: %w", errInvalid)
	}
	return s.inTx(ctx, func(tx runner) error { return s.replaceCodes(ctx, tx, userID, codes, at) })
}

// replaceCodes deletes the user's codes and inserts codes, in one
// multi-row INSERT (a set is a handful of rows).
func (s *Store) replaceCodes(ctx context.Context, tx runner, userID string, codes [][]byte, at time.Time) error {
	if _, err := exec(ctx, tx, s.mq.deleteCodes, userID); err != nil {
		return fmt.Errorf("sqlstore: delete recovery codes: %w", err)
	}
	rows := make([]string, len(codes))
	args := make([]any, 0, 3*len(codes))
	for i, c := range codes {
		if len(c) == 0 {
			return fmt.Errorf("sqlstore: replace recovery codes: an empty digest: %w", errInvalid)
		}
		rows[i] = "(?, ?, ?, NULL)"
		args = append(args, userID, c, dbTime(at))
	}
	insert := s.d.rebind(`INSERT INTO recovery_codes (user_id, digest, created_at, used_at) VALUES ` + strings.Join(rows, ", "))
	if _, err := exec(ctx, tx, insert, args...); err != nil {
		return mapWriteErr("insert recovery codes", err)
	}
	return nil
}

// ConsumeRecoveryCode marks an unused code used; an unknown or used one is
// store.ErrNotFound.
func (s *Store) ConsumeRecoveryCode(ctx context.Context, userID string, digest []byte, at time.Time) error {
	res, err := exec(ctx, s.wq, s.mq.consumeCode, dbTime(at), userID, digest)
	if err != nil {
		return fmt.Errorf("sqlstore: consume recovery code: %w", err)
	}
	return requireRow(res, "recovery code of user", userID)
}

// RecoveryCodesLeft counts a user's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	var n int
	if err := get(ctx, s.rq, &n, s.mq.codesLeft, userID); err != nil {
		return 0, fmt.Errorf("sqlstore: recovery codes left: %w", err)
	}
	return n, nil
}

// CreateMFAChallenge stores c after deleting the user's used and expired
// challenges, in one transaction.
func (s *Store) CreateMFAChallenge(ctx context.Context, c store.MFAChallenge) error {
	if len(c.Digest) == 0 || c.Purpose == "" || c.UserID == "" || c.ExpiresAt.IsZero() {
		return fmt.Errorf("sqlstore: create MFA challenge: Digest, Purpose, UserID and ExpiresAt are required: %w", errInvalid)
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	amr, err := joinList("amr", c.AMR)
	if err != nil {
		return fmt.Errorf("sqlstore: create MFA challenge: %w", err)
	}
	err = s.inTx(ctx, func(tx runner) error {
		if _, err := exec(ctx, tx, s.mq.pruneChallenges, c.UserID, dbTime(c.CreatedAt)); err != nil {
			return err
		}
		_, err := exec(ctx, tx, s.mq.insertChallenge, c.Digest, c.Purpose, c.UserID, c.CredentialVersion,
			c.Network, amr, dbTime(c.CreatedAt), dbTime(c.ExpiresAt))
		return err
	})
	if err != nil {
		return mapWriteErr("create MFA challenge", err)
	}
	return nil
}

// MFAChallenge returns a live challenge; anything else is
// store.ErrNotFound.
func (s *Store) MFAChallenge(ctx context.Context, digest []byte, purpose string, maxFailures int, now time.Time) (store.MFAChallenge, error) {
	return s.challengeQuery(ctx, s.rq, "read", s.mq.challenge, digest, purpose, dbTime(now), maxFailures)
}

// FailMFAChallenge counts a failure against a live challenge.
func (s *Store) FailMFAChallenge(ctx context.Context, digest []byte, purpose string, maxFailures int, now time.Time) (store.MFAChallenge, error) {
	return s.challengeUpdate(ctx, "fail", s.mq.fail, digest, digest, purpose, dbTime(now), maxFailures)
}

// ConsumeMFAChallenge marks a live challenge used.
func (s *Store) ConsumeMFAChallenge(ctx context.Context, digest []byte, purpose string, maxFailures int, now time.Time) (store.MFAChallenge, error) {
	return s.challengeUpdate(ctx, "consume", s.mq.consume, digest, dbTime(now), digest, purpose, dbTime(now), maxFailures)
}

// challengeUpdate runs a challenge's fail or consume update and returns
// the challenge as the update left it.
func (s *Store) challengeUpdate(ctx context.Context, op, update string, digest []byte, args ...any) (store.MFAChallenge, error) {
	var row challengeRow
	err := s.updateReturning(ctx, s.wq, &row, update, args, s.mq.challengeByDigest, digest)
	return challengeResult(op, row, err)
}

func (s *Store) challengeQuery(ctx context.Context, r runner, op, query string, args ...any) (store.MFAChallenge, error) {
	var row challengeRow
	err := get(ctx, r, &row, query, args...)
	return challengeResult(op, row, err)
}

func challengeResult(op string, row challengeRow, err error) (store.MFAChallenge, error) {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// Not live: unknown, used, expired or out of attempts, untold.
		return store.MFAChallenge{}, fmt.Errorf("sqlstore: MFA challenge: %w", store.ErrNotFound)
	case err != nil:
		return store.MFAChallenge{}, fmt.Errorf("sqlstore: %s MFA challenge: %w", op, err)
	}
	return row.challenge(), nil
}
