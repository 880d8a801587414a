// Package userimport moves an existing user base into authd with the users'
// password hashes, so nobody has to reset a password. It reads JSON lines or
// CSV and hands every row to the service (auth.Service.ImportUser), which
// validates it like any other write (email, roles, hash and its cost),
// creates the user and records the import on the audit trail. Running it
// twice imports nothing twice. Each skipped row is reported with its line
// and reason.
package userimport

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/authd/authd/internal/auth"
)

// Importer creates one imported user; *auth.Service implements it.
type Importer interface {
	ImportUser(ctx context.Context, u auth.ImportedUser, actor auth.Device) (auth.ImportResult, error)
}

// Format of the input.
type Format string

// Input formats.
const (
	// JSONLines is one object per line: {"email","password_hash",
	// "email_verified" (optional), "disabled" (optional), "roles"
	// (optional array), "created_at" (optional, RFC 3339)}. Export writes
	// it.
	JSONLines Format = "jsonl"
	// CSV has a header row naming at least email and password_hash, and
	// optionally email_verified and disabled (true/false), roles
	// (separated by ';') and created_at (RFC 3339).
	CSV Format = "csv"
)

// Record is one user to import.
type Record struct {
	Line          int
	Email         string
	PasswordHash  string
	EmailVerified bool
	Disabled      bool
	Roles         []string
	CreatedAt     time.Time
}

// Skip is a row that was not imported, and why.
type Skip struct {
	Line   int
	Email  string
	Reason string
}

// Report summarises an import.
type Report struct {
	Imported int
	// LowCost counts the imported hashes whose bcrypt cost is below the
	// configured one; each is re-hashed at that cost at the user's next
	// login.
	LowCost int
	Skipped []Skip
}

// maxLine bounds one input line (a hash and a few fields fit easily).
const maxLine = 64 << 10

// Import reads users from r and has imp create those that do not exist,
// as actor (recorded on the audit trail). Rows the service refuses (an
// invalid email or role, an unsupported hash or one above the maximum
// cost, an email that has an account) and duplicate emails in the input
// are skipped and reported; an I/O or store failure stops the import with
// an error (rows before it stay imported, and running again resumes, since
// existing users are skipped).
func Import(ctx context.Context, imp Importer, r io.Reader, format Format, actor auth.Device) (Report, error) {
	var rep Report
	seen := map[string]bool{}
	err := read(r, format, func(rec Record, parseErr error) error {
		skip := func(reason string) {
			rep.Skipped = append(rep.Skipped, Skip{Line: rec.Line, Email: rec.Email, Reason: reason})
		}
		if parseErr != nil {
			skip(parseErr.Error())
			return nil
		}
		// The key of the duplicate check only; the service normalises
		// (and refuses) the address itself.
		key, keyErr := auth.NormalizeEmail(rec.Email)
		if keyErr == nil && seen[key] {
			skip("duplicate email in the input")
			return nil
		}
		res, err := imp.ImportUser(ctx, auth.ImportedUser{
			Email: rec.Email, PasswordHash: rec.PasswordHash, EmailVerified: rec.EmailVerified, Roles: rec.Roles,
			Disabled: rec.Disabled, CreatedAt: rec.CreatedAt,
		}, actor)
		var refused *auth.Error
		switch {
		case err == nil:
			seen[key] = true
			rep.Imported++
			if res.LowCost {
				rep.LowCost++
			}
		case errors.Is(err, auth.ErrEmailTaken):
			seen[key] = true
			skip("a user with this email already exists")
		case errors.As(err, &refused) && errors.Is(err, auth.ErrInvalidRequest):
			skip(refused.Description)
		default:
			return fmt.Errorf("line %d: %w", rec.Line, err)
		}
		return nil
	})
	return rep, err
}

// jsonRow is one line of JSONLines, as Export writes it and Import reads
// it.
type jsonRow struct {
	Email         string    `json:"email"`
	PasswordHash  string    `json:"password_hash"`
	EmailVerified bool      `json:"email_verified"`
	Disabled      bool      `json:"disabled"`
	Roles         []string  `json:"roles"`
	CreatedAt     time.Time `json:"created_at,omitzero"`
}

// read calls fn for each row; a row that cannot be parsed is passed with
// its error so it is reported, not fatal.
func read(r io.Reader, format Format, fn func(Record, error) error) error {
	switch format {
	case JSONLines:
		return readJSONLines(r, fn)
	case CSV:
		return readCSV(r, fn)
	}
	return fmt.Errorf("userimport: unknown format %q (jsonl or csv)", format)
}

func readJSONLines(r io.Reader, fn func(Record, error) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLine)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var row jsonRow
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		rec := Record{Line: line}
		if err := dec.Decode(&row); err != nil {
			if err := fn(rec, errors.New("not a JSON object with email and password_hash")); err != nil {
				return err
			}
			continue
		}
		rec.Email, rec.PasswordHash, rec.EmailVerified, rec.Roles = row.Email, row.PasswordHash, row.EmailVerified, row.Roles
		rec.Disabled, rec.CreatedAt = row.Disabled, row.CreatedAt
		if err := fn(rec, nil); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("userimport: read: %w", err)
	}
	return nil
}

func readCSV(r io.Reader, fn func(Record, error) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("userimport: CSV header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	if _, ok := col["email"]; !ok {
		return errors.New("userimport: CSV header must name email and password_hash")
	}
	if _, ok := col["password_hash"]; !ok {
		return errors.New("userimport: CSV header must name email and password_hash")
	}
	field := func(row []string, name string) string {
		if i, ok := col[name]; ok && i < len(row) {
			return strings.TrimSpace(row[i])
		}
		return ""
	}
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			if err := fn(Record{Line: perr.Line}, errors.New("malformed CSV row")); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("userimport: read: %w", err)
		}
		line, _ := cr.FieldPos(0)
		rec := Record{Line: line}
		rec.Email, rec.PasswordHash = field(row, "email"), field(row, "password_hash")
		var parseErr error
		if v := field(row, "email_verified"); v != "" {
			if rec.EmailVerified, err = strconv.ParseBool(v); err != nil {
				parseErr = errors.New("email_verified must be true or false")
			}
		}
		if v := field(row, "disabled"); v != "" && parseErr == nil {
			if rec.Disabled, err = strconv.ParseBool(v); err != nil {
				parseErr = errors.New("disabled must be true or false")
			}
		}
		if v := field(row, "created_at"); v != "" && parseErr == nil {
			if rec.CreatedAt, err = time.Parse(time.RFC3339Nano, v); err != nil {
				parseErr = errors.New("created_at must be an RFC 3339 time")
			}
		}
		if v := field(row, "roles"); v != "" {
			for _, role := range strings.Split(v, ";") {
				if role = strings.TrimSpace(role); role != "" {
					rec.Roles = append(rec.Roles, role)
				}
			}
		}
		if err := fn(rec, parseErr); err != nil {
			return err
		}
	}
}
