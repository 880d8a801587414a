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

// strictUnmarshal decodes one JSON value with no unknown fields and nothing
// after it. Its error messages are safe to show to the client.
func strictUnmarshal(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr):
			return fmt.Errorf("field %q must be a %s", typeErr.Field, typeErr.Type)
		case errors.Is(err, io.EOF):
			return errors.New("the request body is empty")
		default:
			if f, ok := unknownField(err); ok {
				return fmt.Errorf("unknown field %s", f)
			}
			return errors.New("the request body is not valid JSON")
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("the request body has data after the JSON object")
	}
	return nil
}

// unknownField extracts the field name from encoding/json's unknown-field
// error, which has no typed form.
func unknownField(err error) (string, bool) {
	const prefix = "json: unknown field "
	msg := err.Error()
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		return msg[len(prefix):], true
	}
	return "", false
}

// decodeForm parses an application/x-www-form-urlencoded body, refusing
// repeated parameters (RFC 6749 §3.2).
func (a *API) decodeForm(c *gin.Context) (url.Values, bool) {
	body, err := readBody(c)
	if err != nil {
		a.answerBodyError(c, err)
		return nil, false
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		a.writeError(c, badRequest("the form body is malformed"))
		return nil, false
	}
	for k, v := range vals {
		if len(v) > 1 {
			a.writeError(c, badRequest(fmt.Sprintf("parameter %q is repeated", k)))
			return nil, false
		}
	}
	return vals, true
}
