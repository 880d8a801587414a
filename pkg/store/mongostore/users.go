package mongostore

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/authd/authd/pkg/store"
)

// maxUserLimit bounds one ListUsers page.
const maxUserLimit = 1000

// userDoc is a user with their roles embedded: every change of a user is
// a single-document update.
type userDoc struct {
	ID            string   `bson:"_id"`
	Email         string   `bson:"email"`
	PasswordHash  string   `bson:"password_hash"`
	EmailVerified bool     `bson:"email_verified"`
	Disabled      bool     `bson:"disabled"`
	Roles         []string `bson:"roles"`
	CredVersion   int64    `bson:"credential_version"`
	CreatedAt     int64    `bson:"created_at"`
	UpdatedAt     int64    `bson:"updated_at"`
}

// loginDoc is a user's last login time, kept apart from the user so that
// logins never write the user document: a login then cannot race with a
// credential change on that document (see the package doc, "FerretDB").
type loginDoc struct {
	UserID      string `bson:"_id"`
	LastLoginAt int64  `bson:"last_login_at"`
}

func (d userDoc) user() store.User {
	return store.User{
		ID: d.ID, Email: d.Email, PasswordHash: d.PasswordHash, EmailVerified: d.EmailVerified,
		Disabled: d.Disabled, Roles: sortedRoles(d.Roles), CredentialVersion: d.CredVersion,
		CreatedAt: fromMicros(d.CreatedAt), UpdatedAt: fromMicros(d.UpdatedAt),
	}
}

// byID is the filter {_id: id}.
func byID(id any) bson.D { return bson.D{{Key: "_id", Value: id}} }

// set is the update {$set: fields}.
func set(fields ...bson.E) bson.D { return bson.D{{Key: "$set", Value: bson.D(fields)}} }

// normalizeEmail is the stored form of an email (see sqlstore): trimmed,
// lower-cased, so that uniqueness is case-insensitive.
func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser inserts u with its roles in one document. A taken email or ID
// is store.ErrAlreadyExists (the unique indexes on _id and email).
func (s *Store) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	u.Email = normalizeEmail(u.Email)
	if u.ID == "" || u.Email == "" || u.PasswordHash == "" {
		return store.User{}, fmt.Errorf("mongostore: create user: ID, Email and PasswordHash are required: %w", errInvalid)
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.now()
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	u.CreatedAt, u.UpdatedAt = canon(u.CreatedAt), canon(u.UpdatedAt)
	u.LastLoginAt = time.Time{} // set by CreateSession only
	u.Roles = sortedRoles(u.Roles)
	for _, role := range u.Roles {
		if err := store.ValidateRole(role); err != nil {
			return store.User{}, fmt.Errorf("mongostore: create user: %w", err)
		}
	}
	u.CredentialVersion = 0
	doc := userDoc{ID: u.ID, Email: u.Email, PasswordHash: u.PasswordHash, EmailVerified: u.EmailVerified,
		Disabled: u.Disabled, Roles: u.Roles, CreatedAt: micros(u.CreatedAt), UpdatedAt: micros(u.UpdatedAt)}
	if _, err := s.users.InsertOne(ctx, doc); err != nil {
		return store.User{}, mapErr("create user", err)
	}
	return u, nil
}

// UserByEmail returns the user with that (normalised) email, or
// store.ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	return s.findUser(ctx, bson.D{{Key: "email", Value: normalizeEmail(email)}}, email)
}

// UserByID returns the user with that id, or store.ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	return s.findUser(ctx, byID(id), id)
}

func (s *Store) findUser(ctx context.Context, filter bson.D, what string) (store.User, error) {
	var d userDoc
	if err := readErr(s.users.FindOne(ctx, filter).Decode(&d), "get user", "user", what); err != nil {
		return store.User{}, err
	}
	users := []store.User{d.user()}
	if err := s.addLogins(ctx, users); err != nil {
		return store.User{}, err
	}
	return users[0], nil
}

// addLogins fills in the LastLoginAt of users from their login documents,
// in one query.
func (s *Store) addLogins(ctx context.Context, users []store.User) error {
	if len(users) == 0 {
		return nil
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	var docs []loginDoc
	if err := findAll(ctx, s.logins, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, nil, &docs); err != nil {
		return mapErr("read last logins", err)
	}
	at := make(map[string]int64, len(docs))
	for _, d := range docs {
		at[d.UserID] = d.LastLoginAt
	}
	for i := range users {
		users[i].LastLoginAt = fromMicros(at[users[i].ID])
	}
	return nil
}

// userVersion reads a user's credential version (store.ErrNotFound when
// there is no such user).
func (s *Store) userVersion(ctx context.Context, id string) (int64, error) {
	var d struct {
		V int64 `bson:"credential_version"`
	}
	err := s.users.FindOne(ctx, byID(id), options.FindOne().SetProjection(bson.D{{Key: "credential_version", Value: 1}})).Decode(&d)
	if err := readErr(err, "read credential version", "user", id); err != nil {
		return 0, err
	}
	return d.V, nil
}

// UpdatePasswordHash replaces the hash and bumps the credential version in
// one update. An unknown user is store.ErrNotFound.
func (s *Store) UpdatePasswordHash(ctx context.Context, userID, hash string) error {
	if hash == "" {
		return fmt.Errorf("mongostore: update password hash: empty hash: %w", errInvalid)
	}
	res, err := s.users.UpdateOne(ctx, byID(userID), bson.D{
		{Key: "$set", Value: bson.D{{Key: "password_hash", Value: hash}, {Key: "updated_at", Value: micros(s.now())}}},
		{Key: "$inc", Value: bson.D{{Key: "credential_version", Value: int64(1)}}},
	})
	return updateErr(res, err, "update password hash", "user", userID)
}

// ChangePasswordHash replaces the hash verified at c.Version and bumps the
// version (one conditional update of the user), then carries
// c.KeepSessionID to the new version (one conditional update of that
// session). Two documents: see the package doc for the window between.
func (s *Store) ChangePasswordHash(ctx context.Context, c store.PasswordChange) error {
	if c.UserID == "" || c.Hash == "" {
		return fmt.Errorf("mongostore: change password hash: UserID and Hash are required: %w", errInvalid)
	}
	res, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: c.UserID}, {Key: "credential_version", Value: c.Version}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "password_hash", Value: c.Hash}, {Key: "updated_at", Value: micros(s.now())}}},
		{Key: "$inc", Value: bson.D{{Key: "credential_version", Value: int64(1)}}},
	})
	if err != nil {
		return mapErr("change password hash", err)
	}
	if res.MatchedCount == 0 {
		return s.versionMiss(ctx, c.UserID)
	}
	if c.KeepSessionID == "" {
		return nil
	}
	return s.carry(ctx, c.UserID, c.KeepSessionID, c.Version, c.Version+1)
}

// carry moves the user's session from version from to version to, if it is
// still at from.
func (s *Store) carry(ctx context.Context, userID, sessionID string, from, to int64) error {
	_, err := s.sessions.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: sessionID}, {Key: "user_id", Value: userID}, {Key: "credential_version", Value: from}},
		set(bson.E{Key: "credential_version", Value: to}))
	return mapErr("carry session to the new credential version", err)
}

// versionMiss says why an update conditional on a user's credential
// version matched nothing: no such user, or the version moved on.
func (s *Store) versionMiss(ctx context.Context, userID string) error {
	if _, err := s.userVersion(ctx, userID); err != nil {
		return err
	}
	return fmt.Errorf("mongostore: user %q: %w", userID, store.ErrCredentialsChanged)
}

// RehashPassword replaces the hash while the version is still version.
func (s *Store) RehashPassword(ctx context.Context, userID, hash string, version int64) error {
	if hash == "" {
		return fmt.Errorf("mongostore: rehash password: empty hash: %w", errInvalid)
	}
	res, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: userID}, {Key: "credential_version", Value: version}},
		set(bson.E{Key: "password_hash", Value: hash}, bson.E{Key: "updated_at", Value: micros(s.now())}))
	if err != nil {
		return mapErr("rehash password", err)
	}
	if res.MatchedCount == 0 {
		return s.versionMiss(ctx, userID)
	}
	return nil
}

// SetEmailVerified marks the email verified while it is still email.
func (s *Store) SetEmailVerified(ctx context.Context, userID, email string) error {
	res, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: userID}, {Key: "email", Value: normalizeEmail(email)}},
		set(bson.E{Key: "email_verified", Value: true}, bson.E{Key: "updated_at", Value: micros(s.now())}))
	return updateErr(res, err, "set email verified", "user with that email", userID)
}

// SetUserDisabled sets the flag; disabling bumps the credential version in
// the same update.
func (s *Store) SetUserDisabled(ctx context.Context, userID string, disabled bool) error {
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "disabled", Value: disabled}, {Key: "updated_at", Value: micros(s.now())}}}}
	if disabled {
		update = append(update, bson.E{Key: "$inc", Value: bson.D{{Key: "credential_version", Value: int64(1)}}})
	}
	res, err := s.users.UpdateOne(ctx, byID(userID), update)
	return updateErr(res, err, "set user disabled", "user", userID)
}

// GrantRole adds role to the user's embedded roles ($addToSet: granting
// twice is one role). An unknown user is store.ErrNotFound.
func (s *Store) GrantRole(ctx context.Context, userID, role string) error {
	if err := store.ValidateRole(role); err != nil {
		return fmt.Errorf("mongostore: grant role: %w", err)
	}
	res, err := s.users.UpdateOne(ctx, byID(userID), bson.D{{Key: "$addToSet", Value: bson.D{{Key: "roles", Value: role}}}})
	return updateErr(res, err, "grant role", "user", userID)
}

// RevokeRole removes role ($pull); any name, any user, never an error for
// an absent one.
func (s *Store) RevokeRole(ctx context.Context, userID, role string) error {
	_, err := s.users.UpdateOne(ctx, byID(userID), bson.D{{Key: "$pull", Value: bson.D{{Key: "roles", Value: role}}}})
	return mapErr("revoke role", err)
}

// ListUsers returns a page in (CreatedAt, ID) order, walking the
// created_at_id index from the cursor. EmailPrefix is an anchored, quoted
// regular expression on the stored (lower-case) email.
func (s *Store) ListUsers(ctx context.Context, q store.UserQuery) ([]store.User, error) {
	if q.Limit < 1 || q.Limit > maxUserLimit {
		return nil, fmt.Errorf("mongostore: list users: limit %d outside 1..%d: %w", q.Limit, maxUserLimit, errInvalid)
	}
	filter := bson.D{}
	if !q.After.IsZero() {
		at := micros(q.After.CreatedAt)
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "created_at", Value: bson.D{{Key: "$gt", Value: at}}}},
			bson.D{{Key: "created_at", Value: at}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: q.After.ID}}}},
		}})
	}
	if q.EmailPrefix != "" {
		filter = append(filter, bson.E{Key: "email", Value: bson.D{{Key: "$regex", Value: "^" + regexp.QuoteMeta(strings.ToLower(q.EmailPrefix))}}})
	}
	if q.Role != "" {
		filter = append(filter, bson.E{Key: "roles", Value: q.Role})
	}
	if q.Disabled != nil {
		filter = append(filter, bson.E{Key: "disabled", Value: *q.Disabled})
	}
	opts := options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(q.Limit))
	var docs []userDoc
	if err := findAll(ctx, s.users, filter, opts, &docs); err != nil {
		return nil, mapErr("list users", err)
	}
	out := make([]store.User, len(docs))
	for i, d := range docs {
		out[i] = d.user()
	}
	if err := s.addLogins(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// findAll runs a find and decodes every document into out.
func findAll(ctx context.Context, c *mongo.Collection, filter any, opts *options.FindOptionsBuilder, out any) error {
	if opts == nil {
		opts = options.Find()
	}
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return err
	}
	return cur.All(ctx, out)
}

// DeleteUser deletes a user and everything that is theirs, and erases
// the IP and user agent of their audit events. It spans collections, so it
// is not one atomic step (see the package doc): the dependants go first,
// then the user document, then the dependants again, so that a call that
// failed half-way can be repeated (the user is still there to find) and a
// login racing with it leaves no session behind.
func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	if _, err := s.userVersion(ctx, userID); err != nil {
		return err
	}
	if err := s.deleteDependants(ctx, userID); err != nil {
		return err
	}
	res, err := s.users.DeleteOne(ctx, byID(userID))
	if err != nil {
		return mapErr("delete user", err)
	}
	if res.DeletedCount == 0 {
		return notFound("user", userID)
	}
	return s.deleteDependants(ctx, userID)
}

func (s *Store) deleteDependants(ctx context.Context, userID string) error {
	own := bson.D{{Key: "user_id", Value: userID}}
	for _, c := range []*mongo.Collection{s.tokens, s.sessions, s.challenges, s.claims} {
		if _, err := c.DeleteMany(ctx, own); err != nil {
			return mapErr("delete user: "+c.Name(), err)
		}
	}
	for _, c := range []*mongo.Collection{s.mfa, s.logins} {
		if _, err := c.DeleteOne(ctx, byID(userID)); err != nil {
			return mapErr("delete user: "+c.Name(), err)
		}
	}
	// The one change an audit event may see.
	_, err := s.audit.UpdateMany(ctx,
		bson.D{{Key: "user_id", Value: userID}, {Key: "$or", Value: bson.A{
			bson.D{{Key: "ip", Value: bson.D{{Key: "$ne", Value: ""}}}},
			bson.D{{Key: "user_agent", Value: bson.D{{Key: "$ne", Value: ""}}}},
		}}},
		set(bson.E{Key: "ip", Value: ""}, bson.E{Key: "user_agent", Value: ""}))
	return mapErr("delete user: erase audit personal data", err)
}
