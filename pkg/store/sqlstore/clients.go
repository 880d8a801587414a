package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/authd/authd/pkg/store"
)

// clientCols are the columns clientRow scans.
const clientCols = `id, name, secret_hash, prev_secret_hash, prev_secret_expires_at, scopes, audiences,
	disabled, created_at, updated_at, last_used_at`

type clientQueries struct {
	insert, byID, list, rotateKeep, rotateDrop, setDisabled, delete, touch string
}

func newClientQueries(d dialect) clientQueries {
	return clientQueries{
		insert: d.rebind(`INSERT INTO clients (` + clientCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		byID:   d.rebind(`SELECT ` + clientCols + ` FROM clients WHERE id = ?`),
		list:   d.rebind(`SELECT ` + clientCols + ` FROM clients ORDER BY created_at, id`),
		// The right-hand sides read the row as it was before the UPDATE,
		// so the replaced secret moves to prev_secret_hash in the same
		// statement, whatever secret was there before it.
		rotateKeep: d.rebind(`UPDATE clients SET prev_secret_hash = secret_hash, prev_secret_expires_at = ?,
			secret_hash = ?, updated_at = ? WHERE id = ?`),
		rotateDrop: d.rebind(`UPDATE clients SET prev_secret_hash = NULL, prev_secret_expires_at = NULL,
			secret_hash = ?, updated_at = ? WHERE id = ?`),
		setDisabled: d.rebind(`UPDATE clients SET disabled = ?, updated_at = ? WHERE id = ?`),
		delete:      d.rebind(`DELETE FROM clients WHERE id = ?`),
		// last_used_at only moves forward, so a grant that finishes late
		// does not set it back, and an equal time writes nothing.
		touch: d.rebind(`UPDATE clients SET last_used_at = ?
			WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`),
	}
}

type clientRow struct {
	ID                  string `db:"id"`
	Name                string `db:"name"`
	SecretHash          []byte `db:"secret_hash"`
	PrevSecretHash      []byte `db:"prev_secret_hash"`
	PrevSecretExpiresAt dbTime `db:"prev_secret_expires_at"`
	Scopes              string `db:"scopes"`
	Audiences           string `db:"audiences"`
	Disabled            bool   `db:"disabled"`
	CreatedAt           dbTime `db:"created_at"`
	UpdatedAt           dbTime `db:"updated_at"`
	LastUsedAt          dbTime `db:"last_used_at"`
}

func (r clientRow) client() store.Client {
	c := store.Client{
		ID:                  r.ID,
		Name:                r.Name,
		SecretHash:          r.SecretHash,
		PrevSecretHash:      r.PrevSecretHash,
		PrevSecretExpiresAt: r.PrevSecretExpiresAt.Time(),
		Scopes:              splitList(r.Scopes),
		Audiences:           splitList(r.Audiences),
		Disabled:            r.Disabled,
		CreatedAt:           r.CreatedAt.Time(),
		UpdatedAt:           r.UpdatedAt.Time(),
		LastUsedAt:          r.LastUsedAt.Time(),
	}
	if len(c.PrevSecretHash) == 0 {
		c.PrevSecretHash, c.PrevSecretExpiresAt = nil, time.Time{}
	}
	return c
}

// joinList is the stored form of a scope or audience list: the values
// separated by single spaces, in the caller's order (the first audience is
// the default). A value that is empty or holds white space would not read
// back as itself, so it is refused.
func joinList(what string, values []string) (string, error) {
	for _, v := range values {
		if v == "" || strings.ContainsFunc(v, unicode.IsSpace) {
			return "", fmt.Errorf("%s: a value is empty or contains white space: %w", what, errInvalid)
		}
	}
	return strings.Join(values, " "), nil
}

// splitList reads a list joinList wrote; never nil.
func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, " ")
}

// CreateClient stores c. Zero CreatedAt and UpdatedAt are set from the
// store's clock; ID and SecretHash are required, and no scope or audience
// may be empty or hold white space. A PrevSecretHash is stored with its
// expiry (an empty one stores neither). A taken ID is
// store.ErrAlreadyExists.
func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	if c.ID == "" || len(c.SecretHash) == 0 {
		return fmt.Errorf("sqlstore: create client: ID and SecretHash are required: %w", errInvalid)
	}
	scopes, err := joinList("scopes", c.Scopes)
	if err != nil {
		return fmt.Errorf("sqlstore: create client: %w", err)
	}
	audiences, err := joinList("audiences", c.Audiences)
	if err != nil {
		return fmt.Errorf("sqlstore: create client: %w", err)
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	var prev []byte
	var prevExpires time.Time
	if len(c.PrevSecretHash) > 0 {
		prev, prevExpires = c.PrevSecretHash, c.PrevSecretExpiresAt
	}
	if _, err := exec(ctx, s.wq, s.cq.insert, c.ID, c.Name, c.SecretHash, prev, dbTime(prevExpires),
		scopes, audiences, c.Disabled, dbTime(c.CreatedAt), dbTime(c.UpdatedAt), dbTime(c.LastUsedAt)); err != nil {
		return mapWriteErr("create client", err)
	}
	return nil
}

// ClientByID returns a client, disabled or not, or store.ErrNotFound. It
// runs once per client_credentials grant: one prepared statement on the
// read pool.
func (s *Store) ClientByID(ctx context.Context, id string) (store.Client, error) {
	var row clientRow
	if err := get(ctx, s.rq, &row, s.cq.byID, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return store.Client{}, fmt.Errorf("sqlstore: client %q: %w", id, store.ErrNotFound)
		}
		return store.Client{}, fmt.Errorf("sqlstore: get client: %w", err)
	}
	return row.client(), nil
}

// ListClients returns every client, oldest first (ties by id).
func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	var rows []clientRow
	if err := selectAll(ctx, s.rq, &rows, s.cq.list); err != nil {
		return nil, fmt.Errorf("sqlstore: list clients: %w", err)
	}
	out := make([]store.Client, len(rows))
	for i, r := range rows {
		out[i] = r.client()
	}
	return out, nil
}

// RotateClientSecret makes r.NewHash the client's secret in one
// statement. When r.PrevExpiresAt is after r.At the replaced secret
// becomes PrevSecretHash until then, dropping any older one; otherwise
// there is no previous secret any more. A zero At is the store's clock.
// An unknown client is store.ErrNotFound.
func (s *Store) RotateClientSecret(ctx context.Context, r store.SecretRotation) error {
	if r.ClientID == "" || len(r.NewHash) == 0 {
		return fmt.Errorf("sqlstore: rotate client secret: ClientID and NewHash are required: %w", errInvalid)
	}
	if r.At.IsZero() {
		r.At = s.now()
	}
	var res sql.Result
	var err error
	if r.PrevExpiresAt.After(r.At) {
		res, err = exec(ctx, s.wq, s.cq.rotateKeep, dbTime(r.PrevExpiresAt), r.NewHash, dbTime(r.At), r.ClientID)
	} else {
		res, err = exec(ctx, s.wq, s.cq.rotateDrop, r.NewHash, dbTime(r.At), r.ClientID)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: rotate client secret: %w", err)
	}
	return requireRow(res, "client", r.ClientID)
}

// SetClientDisabled sets a client's disabled flag and UpdatedAt (a zero at
// is the store's clock). Setting it again is not an error; an unknown
// client is store.ErrNotFound.
func (s *Store) SetClientDisabled(ctx context.Context, id string, disabled bool, at time.Time) error {
	if at.IsZero() {
		at = s.now()
	}
	res, err := exec(ctx, s.wq, s.cq.setDisabled, disabled, dbTime(at), id)
	if err != nil {
		return fmt.Errorf("sqlstore: set client disabled: %w", err)
	}
	return requireRow(res, "client", id)
}

// DeleteClient deletes a client; an unknown one is store.ErrNotFound.
// Sessions and tokens only name a client, so nothing else goes with it.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	res, err := exec(ctx, s.wq, s.cq.delete, id)
	if err != nil {
		return fmt.Errorf("sqlstore: delete client: %w", err)
	}
	return requireRow(res, "client", id)
}

// TouchClient sets the client's LastUsedAt to at unless it is already at
// or after it. An unknown client is not an error. It runs once per grant:
// one prepared statement, no transaction.
func (s *Store) TouchClient(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("sqlstore: touch client: zero time: %w", errInvalid)
	}
	if _, err := exec(ctx, s.wq, s.cq.touch, dbTime(at), id, dbTime(at)); err != nil {
		return fmt.Errorf("sqlstore: touch client: %w", err)
	}
	return nil
}
