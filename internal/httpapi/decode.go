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
	"slices"
	"strconv"
	"strings"
	"sync"

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

// strictUnmarshal decodes one JSON object into dst, a pointer to a struct
// of request fields, and refuses what encoding/json lets through: a name
// that matches a field only case-insensitively ({"EMAIL":…}), a key given
// twice (at any depth; encoding/json keeps the last, another parser the
// first), a missing or null field tagged `authd:"required"`, unknown
// fields, and anything after the object. Its error messages are safe to
// show to the client: a fixed sentence, naming at most a field of dst or
// a client-chosen name that is short and plain (see safeName); never other
// bytes of the body.
func strictUnmarshal(body []byte, dst any) error {
	if err := decodeStrictly(body, dst); err != nil {
		return err
	}
	return checkKeys(body, fieldsOf(reflect.TypeOf(dst)))
}

// decodeStrictly is encoding/json with unknown fields and trailing data
// refused, its errors turned into client-safe messages.
func decodeStrictly(body []byte, dst any) error {
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
				return unknownFieldError(f)
			}
			return errors.New("the request body is not valid JSON")
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("the request body has data after the JSON object")
	}
	return nil
}

// requiredTag marks a request field that must be present and not null:
// `json:"password" authd:"required"`. An empty string is present: the
// service judges it (a weak password, a malformed email).
const requiredTag = "required"

// fieldSet is what checkKeys needs of a request struct: its exact JSON
// names and which of them are required.
type fieldSet struct {
	names    map[string]bool
	required []string
}

var fieldSets sync.Map // reflect.Type → *fieldSet

// fieldsOf returns the JSON field names of the struct t points to, or nil
// when t is not a pointer to a struct (then only duplicates are checked).
func fieldsOf(t reflect.Type) *fieldSet {
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	if fs, ok := fieldSets.Load(t); ok {
		return fs.(*fieldSet)
	}
	fs := &fieldSet{names: map[string]bool{}}
	st := t.Elem()
	for i := range st.NumField() {
		f := st.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fs.names[name] = true
		if f.Tag.Get("authd") == requiredTag {
			fs.required = append(fs.required, name)
		}
	}
	actual, _ := fieldSets.LoadOrStore(t, fs)
	return actual.(*fieldSet)
}

// checkKeys walks a body that already decoded and refuses keys that are
// repeated or not exactly a field's name, and required fields that are
// missing or null.
func checkKeys(body []byte, fields *fieldSet) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return errors.New("the request body is not valid JSON")
	}
	if tok != json.Delim('{') {
		// null decodes into a struct as "nothing"; it is not an object.
		return errors.New("the request body must be a JSON object")
	}
	present := map[string]bool{}
	err = walkObject(dec, func(key string, null bool) error {
		if fields != nil && !fields.names[key] {
			return unknownFieldError(key)
		}
		present[key] = !null
		return nil
	})
	if err != nil {
		return err
	}
	if fields != nil {
		for _, name := range fields.required {
			if !present[name] {
				return fmt.Errorf("field %q is required", name)
			}
		}
	}
	return nil
}

// walkObject reads the members of an object whose '{' was read, through
// its '}', calling member for each key with whether its value is null, and
// refusing a key repeated in this object or in any object nested in it.
func walkObject(dec *json.Decoder, member func(key string, null bool) error) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errors.New("the request body is not valid JSON")
		}
		key, _ := tok.(string)
		if seen[key] {
			if safeName(key) {
				return fmt.Errorf("field %q is repeated", key)
			}
			return errors.New("the request body has a repeated field")
		}
		seen[key] = true
		null, err := walkValue(dec)
		if err != nil {
			return err
		}
		if member != nil {
			if err := member(key, null); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return errors.New("the request body is not valid JSON")
	}
	return nil
}

// walkValue reads one value, checking nested objects for repeated keys,
// and reports whether it was null.
func walkValue(dec *json.Decoder) (null bool, err error) {
	tok, err := dec.Token()
	if err != nil {
		return false, errors.New("the request body is not valid JSON")
	}
	switch tok {
	case json.Delim('{'):
		return false, walkObject(dec, nil)
	case json.Delim('['):
		for dec.More() {
			if _, err := walkValue(dec); err != nil {
				return false, err
			}
		}
		if _, err := dec.Token(); err != nil { // ']'
			return false, errors.New("the request body is not valid JSON")
		}
		return false, nil
	}
	return tok == nil, nil
}

// unknownFieldError names an unknown field when its name is safe to
// repeat.
func unknownFieldError(name string) error {
	if safeName(name) {
		return fmt.Errorf("unknown field %q", name)
	}
	return errors.New("the request body has an unknown field")
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
	return parseFormRepeatable(body)
}

// parseFormRepeatable is parseForm letting the parameters named in
// repeatable appear more than once.
func parseFormRepeatable(body []byte, repeatable ...string) (url.Values, error) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errors.New("the form body is malformed")
	}
	for k, v := range vals {
		if len(v) > 1 && !slices.Contains(repeatable, k) {
			if safeName(k) {
				return nil, fmt.Errorf("parameter %q is repeated", k)
			}
			return nil, errors.New("a parameter is repeated")
		}
	}
	return vals, nil
}
