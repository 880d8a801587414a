package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// maxBody bounds every request body; larger bodies are answered 413.
const maxBody = 64 << 10

var errTooLarge = errors.New("request body too large")

// readBody reads at most maxBody bytes of the request body.
func readBody(c *gin.Context) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errTooLarge
	}
	if err != nil {
		return nil, badRequest("the request body could not be read")
	}
	return body, nil
}

// mediaType returns the request's media type without parameters.
func mediaType(c *gin.Context) string {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

// decodeJSON decodes a JSON object body strictly into dst: the content type
// must be application/json, unknown fields and trailing data are refused.
// It answers the request itself and returns false on failure.
func (a *API) decodeJSON(c *gin.Context, dst any) bool {
	if mediaType(c) != "application/json" {
		writeCode(c, http.StatusUnsupportedMediaType, "invalid_request", "Content-Type must be application/json")
		return false
	}
	body, err := readBody(c)
	if err != nil {
		a.answerBodyError(c, err)
		return false
	}
	if err := strictUnmarshal(body, dst); err != nil {
		a.writeError(c, badRequest(err.Error()))
		return false
	}
	return true
}

func (a *API) answerBodyError(c *gin.Context, err error) {
	if errors.Is(err, errTooLarge) {
		writeCode(c, http.StatusRequestEntityTooLarge, "invalid_request", fmt.Sprintf("the request body exceeds %d bytes", maxBody))
		return
	}
	a.writeError(c, err)
}

// strictUnmarshal decodes one JSON object with no unknown fields and
// nothing after it. Its error messages are safe to show to the client: a
// fixed sentence, naming at most a field of dst or an unknown field whose
// name is short and plain (see safeName); never other bytes of the body.
func strictUnmarshal(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr):
			if typeErr.Field == "" {
				// The body itself has the wrong type ([] or "x").
				return errors.New("the request body must be a JSON object")
			}
			// Field is a path of dst's own field names.
			return fmt.Errorf("field %q must be %s", typeErr.Field, jsonKind(typeErr.Type))
		case errors.Is(err, io.EOF):
			return errors.New("the request body is empty")
		default:
			if f, ok := unknownField(err); ok {
				if safeName(f) {
					return fmt.Errorf("unknown field %q", f)
				}
				return errors.New("the request body has an unknown field")
			}
			return errors.New("the request body is not valid JSON")
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("the request body has data after the JSON object")
	}
	return nil
}

// jsonKind names the JSON type a Go type decodes from, for messages: the
// Go type itself would show internals (an anonymous struct prints its
// tags).
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "of another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "of another type"
}

// unknownField extracts the field name from encoding/json's unknown-field
// error, which has no typed form: `json: unknown field "name"`.
func unknownField(err error) (string, bool) {
	const prefix = "json: unknown field "
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		return "", false
	}
	name, qerr := strconv.Unquote(msg[len(prefix):])
	return name, qerr == nil
}

// maxEchoedName bounds a client-chosen name repeated in an error.
const maxEchoedName = 64

// safeName reports whether a name the client chose (an unknown field, a
// repeated form parameter) may be repeated in an error: 1 to 64 letters,
// digits, '_', '-' or '.'. Anything else is described, not echoed, so an
// error never reflects arbitrary bytes or a whole body.
func safeName(s string) bool {
	if s == "" || len(s) > maxEchoedName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// decodeForm parses an application/x-www-form-urlencoded body, refusing
// repeated parameters (RFC 6749 §3.2).
func (a *API) decodeForm(c *gin.Context) (url.Values, bool) {
	body, err := readBody(c)
	if err != nil {
		a.answerBodyError(c, err)
		return nil, false
	}
	vals, err := parseForm(body)
	if err != nil {
		a.writeError(c, badRequest(err.Error()))
		return nil, false
	}
	return vals, true
}

// parseForm parses a form body, refusing repeated parameters. Its error
// messages are safe to show to the client, as strictUnmarshal's.
func parseForm(body []byte) (url.Values, error) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errors.New("the form body is malformed")
	}
	for k, v := range vals {
		if len(v) > 1 {
			if safeName(k) {
				return nil, fmt.Errorf("parameter %q is repeated", k)
			}
			return nil, errors.New("a parameter is repeated")
		}
	}
	return vals, nil
}
