package mongostore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/authd/authd/pkg/store"
)

// clientDoc is a service client; _id is the client id (unique by
// construction).
type clientDoc struct {
	ID                  string   `bson:"_id"`
	Name                string   `bson:"name"`
	SecretHash          []byte   `bson:"secret_hash"`
	PrevSecretHash      []byte   `bson:"prev_secret_hash"`
	PrevSecretExpiresAt int64    `bson:"prev_secret_expires_at"`
	Scopes              []string `bson:"scopes"`
	Audiences           []string `bson:"audiences"`
	Disabled            bool     `bson:"disabled"`
	CreatedAt           int64    `bson:"created_at"`
	UpdatedAt           int64    `bson:"updated_at"`
	LastUsedAt          int64    `bson:"last_used_at"`
}

func (d clientDoc) client() store.Client {
	c := store.Client{ID: d.ID, Name: d.Name, SecretHash: d.SecretHash, PrevSecretHash: d.PrevSecretHash,
		PrevSecretExpiresAt: fromMicros(d.PrevSecretExpiresAt), Scopes: slices.Clone(list(d.Scopes)),
		Audiences: slices.Clone(list(d.Audiences)), Disabled: d.Disabled, CreatedAt: fromMicros(d.CreatedAt),
		UpdatedAt: fromMicros(d.UpdatedAt), LastUsedAt: fromMicros(d.LastUsedAt)}
	if len(c.PrevSecretHash) == 0 {
		c.PrevSecretHash, c.PrevSecretExpiresAt = nil, time.Time{}
	}
	return c
}

// CreateClient stores c; a taken ID is store.ErrAlreadyExists.
func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	if c.ID == "" || len(c.SecretHash) == 0 {
		return fmt.Errorf("mongostore: create client: ID and SecretHash are required: %w", errInvalid)
	}
	if err := checkList("scopes", c.Scopes); err != nil {
		return fmt.Errorf("mongostore: create client: %w", err)
	}
	if err := checkList("audiences", c.Audiences); err != nil {
		return fmt.Errorf("mongostore: create client: %w", err)
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	d := clientDoc{ID: c.ID, Name: c.Name, SecretHash: c.SecretHash, Scopes: list(c.Scopes), Audiences: list(c.Audiences),
		Disabled: c.Disabled, CreatedAt: micros(c.CreatedAt), UpdatedAt: micros(c.UpdatedAt), LastUsedAt: micros(c.LastUsedAt)}
	if len(c.PrevSecretHash) > 0 {
		d.PrevSecretHash, d.PrevSecretExpiresAt = c.PrevSecretHash, micros(c.PrevSecretExpiresAt)
	}
	if _, err := s.clients.InsertOne(ctx, d); err != nil {
		return mapErr("create client", err)
	}
	return nil
}

// ClientByID returns a client, or store.ErrNotFound.
func (s *Store) ClientByID(ctx context.Context, id string) (store.Client, error) {
	var d clientDoc
	if err := readErr(s.clients.FindOne(ctx, byID(id)).Decode(&d), "get client", "client", id); err != nil {
		return store.Client{}, err
	}
	return d.client(), nil
}

// ListClients returns every client, oldest first (ties by id).
func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	var docs []clientDoc
	if err := findAll(ctx, s.clients, bson.D{}, options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}), &docs); err != nil {
		return nil, mapErr("list clients", err)
	}
	out := make([]store.Client, len(docs))
	for i, d := range docs {
		out[i] = d.client()
	}
	return out, nil
}

// RotateClientSecret moves the current secret to PrevSecretHash (or drops
// it) and stores the new one. The replaced secret must be the one there at
// the update, so the update is conditional on the secret read (a
// compare-and-set, retried if another rotation won).
func (s *Store) RotateClientSecret(ctx context.Context, r store.SecretRotation) error {
	if r.ClientID == "" || len(r.NewHash) == 0 {
		return fmt.Errorf("mongostore: rotate client secret: ClientID and NewHash are required: %w", errInvalid)
	}
	if r.At.IsZero() {
		r.At = s.now()
	}
	for range 8 {
		c, err := s.ClientByID(ctx, r.ClientID)
		if err != nil {
			return err
		}
		fields := []bson.E{{Key: "secret_hash", Value: r.NewHash}, {Key: "updated_at", Value: micros(r.At)}}
		if r.PrevExpiresAt.After(r.At) {
			fields = append(fields, bson.E{Key: "prev_secret_hash", Value: c.SecretHash},
				bson.E{Key: "prev_secret_expires_at", Value: micros(r.PrevExpiresAt)})
		} else {
			fields = append(fields, bson.E{Key: "prev_secret_hash", Value: []byte(nil)},
				bson.E{Key: "prev_secret_expires_at", Value: int64(0)})
		}
		res, err := s.clients.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ClientID}, {Key: "secret_hash", Value: c.SecretHash}}, set(fields...))
		if err != nil {
			return mapErr("rotate client secret", err)
		}
		if res.MatchedCount == 1 || bytes.Equal(c.SecretHash, r.NewHash) {
			return nil
		}
	}
	return fmt.Errorf("mongostore: rotate client secret %q: the secret kept changing", r.ClientID)
}

// SetClientDisabled sets the flag and UpdatedAt.
func (s *Store) SetClientDisabled(ctx context.Context, id string, disabled bool, at time.Time) error {
	if at.IsZero() {
		at = s.now()
	}
	res, err := s.clients.UpdateOne(ctx, byID(id), set(bson.E{Key: "disabled", Value: disabled}, bson.E{Key: "updated_at", Value: micros(at)}))
	return updateErr(res, err, "set client disabled", "client", id)
}

// DeleteClient deletes a client; an unknown one is store.ErrNotFound.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	res, err := s.clients.DeleteOne(ctx, byID(id))
	if err != nil {
		return mapErr("delete client", err)
	}
	if res.DeletedCount == 0 {
		return notFound("client", id)
	}
	return nil
}

// TouchClient moves LastUsedAt forward to at ($max: never back).
func (s *Store) TouchClient(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("mongostore: touch client: zero time: %w", errInvalid)
	}
	_, err := s.clients.UpdateOne(ctx, byID(id), bson.D{{Key: "$max", Value: bson.D{{Key: "last_used_at", Value: micros(at)}}}})
	return mapErr("touch client", err)
}
