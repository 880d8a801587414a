package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/authd/authd/pkg/store"
)

// Page cursors are opaque to clients: base64url (no padding) of a small
// JSON object naming the last item of the page, i.e. the key a keyset
// query continues after. Clients only hand them back; their content may
// change between releases. A cursor that does not decode to one of ours
// is ErrInvalidRequest, never a 500 nor a silent first page.

// maxCursorLength bounds a cursor before it is decoded.
const maxCursorLength = 256

var cursorEncoding = base64.RawURLEncoding.Strict()

// userCursor is the position after a user in (created_at, id) order.
type userCursor struct {
	CreatedAt int64  `json:"t"` // Unix microseconds, the store's precision
	ID        string `json:"id"`
}

// auditCursor is the position after an audit event, newest first.
type auditCursor struct {
	Before int64 `json:"b"`
}

// cutPage turns rows read with a limit of limit+1 into a page: one more
// row than asked for says that another page exists, so the last page
// carries no cursor to an empty one. next is the cursor after the last
// row kept, "" on the last page.
func cutPage[T any](rows []T, limit int, cursor func(T) string) (page []T, next string) {
	if len(rows) <= limit {
		return rows, ""
	}
	return rows[:limit], cursor(rows[limit-1])
}

func encodeCursor(v any) string {
	b, _ := json.Marshal(v) // the cursor types always marshal
	return cursorEncoding.EncodeToString(b)
}

// decodeCursor decodes raw into dst strictly: one spelling, known fields.
func decodeCursor(raw string, dst any) error {
	bad := fail(ErrInvalidRequest, "cursor is not one this API returned")
	if len(raw) > maxCursorLength {
		return bad
	}
	b, err := cursorEncoding.DecodeString(raw)
	if err != nil {
		return bad
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil || dec.More() {
		return bad
	}
	return nil
}

func encodeUserCursor(u store.User) string {
	return encodeCursor(userCursor{CreatedAt: u.CreatedAt.UnixMicro(), ID: u.ID})
}

func decodeUserCursor(raw string) (store.UserCursor, error) {
	if raw == "" {
		return store.UserCursor{}, nil
	}
	var c userCursor
	if err := decodeCursor(raw, &c); err != nil {
		return store.UserCursor{}, err
	}
	if c.ID == "" || len(c.ID) > 128 {
		return store.UserCursor{}, fail(ErrInvalidRequest, "cursor is not one this API returned")
	}
	return store.UserCursor{CreatedAt: time.UnixMicro(c.CreatedAt).UTC(), ID: c.ID}, nil
}

func decodeAuditCursor(raw string) (int64, error) {
	if raw == "" {
		return 0, nil
	}
	var c auditCursor
	if err := decodeCursor(raw, &c); err != nil {
		return 0, err
	}
	if c.Before <= 0 {
		return 0, fail(ErrInvalidRequest, "cursor is not one this API returned")
	}
	return c.Before, nil
}
