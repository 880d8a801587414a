package httpapi

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"
)

// Every message strictUnmarshal and parseForm may return: fixed sentences,
// or a template naming a field of the destination or a short plain name.
var (
	fixedDecodeErrors = map[string]bool{
		"the request body must be a JSON object":          true,
		"the request body is empty":                       true,
		"the request body has an unknown field":           true,
		"the request body is not valid JSON":              true,
		"the request body has data after the JSON object": true,
		"the request body has a repeated field":           true,
		"the form body is malformed":                      true,
		"a parameter is repeated":                         true,
	}
	fieldTypeError  = regexp.MustCompile(`^field "(email|password)" must be (a string|a boolean|a number|an array|an object|of another type)$`)
	unknownFieldErr = regexp.MustCompile(`^unknown field "[A-Za-z0-9_.-]{1,64}"$`)
	requiredField   = regexp.MustCompile(`^field "(email|password)" is required$`)
	repeatedField   = regexp.MustCompile(`^field "[A-Za-z0-9_.-]{1,64}" is repeated$`)
	repeatedParam   = regexp.MustCompile(`^parameter "[A-Za-z0-9_.-]{1,64}" is repeated$`)
)

// FuzzStrictUnmarshal feeds any body to the JSON decoder of the API's
// request structs: it must never panic, every error must be one of the
// known messages (so no body bytes beyond a short field name come back),
// what it accepts must survive a round trip, and an accepted body has
// exactly the struct's field names, once each, both required ones set.
func FuzzStrictUnmarshal(f *testing.F) {
	for _, s := range []string{
		`{"email":"a@example.com","password":"correct horse battery"}`,
		`{"email":1}`, `{"admin":true}`, `[]`, `"x"`, `{}`, ``, `{"email":"a"} {}`, `{"email":`,
		`{"\u0061dmin":1}`, `{"email":{"a":[1,2]}}`, `null`, `{"password":null}`,
		`{"EMAIL":"a@example.com","PassWord":"correct horse battery"}`,
		`{"email":"a@example.com","email":"b@example.com","password":"correct horse battery"}`,
		`{"email":"a@example.com","\u0065mail":"b@example.com","password":"x"}`,
		`{"email":"a@example.com"}`, `{"email":"a","password":null}`, `{"email":"a","password":"b","x":{"y":1,"y":2}}`,
		"{\"email\":\"a\",\"pa\u017f\u017fword\":\"b\"}", // long s folds to s
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst credentials
		err := strictUnmarshal(body, &dst)
		if err != nil {
			msg := err.Error()
			if !fixedDecodeErrors[msg] && !fieldTypeError.MatchString(msg) && !unknownFieldErr.MatchString(msg) &&
				!requiredField.MatchString(msg) && !repeatedField.MatchString(msg) {
				t.Fatalf("strictUnmarshal(%q): unexpected message %q", body, msg)
			}
			return
		}
		keys := exactKeys(t, body)
		if len(keys) != 2 || keys["email"] != 1 || keys["password"] != 1 {
			t.Fatalf("strictUnmarshal(%q) accepted keys %v", body, keys)
		}
		again, merr := json.Marshal(dst)
		if merr != nil {
			t.Fatal(merr)
		}
		var back credentials
		if err := strictUnmarshal(again, &back); err != nil || back != dst {
			t.Fatalf("round trip of %q: %v, %+v != %+v", body, err, back, dst)
		}
	})
}

// exactKeys counts the top-level keys of an object body, as written.
func exactKeys(t *testing.T, body []byte) map[string]int {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("accepted body %q is not an object", body)
	}
	keys := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys[tok.(string)]++
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// FuzzDecodeForm feeds any body to the form decoder: it must never panic,
// errors must be known messages, and an accepted form has no repeated
// parameter.
func FuzzDecodeForm(f *testing.F) {
	for _, s := range []string{
		"grant_type=refresh_token&refresh_token=a.b.c", "a=1&a=2", "%zz=1", "a;b=c", "", "=", "&&&",
		"token=" + string(make([]byte, 10)), "x%00y=1&x%00y=2",
		"token=a&token=a", "token=a&%74oken=b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		vals, err := parseForm([]byte(body))
		if err != nil {
			if msg := err.Error(); !fixedDecodeErrors[msg] && !repeatedParam.MatchString(msg) {
				t.Fatalf("parseForm(%q): unexpected message %q", body, msg)
			}
			return
		}
		for k, v := range vals {
			if len(v) != 1 {
				t.Fatalf("parseForm(%q): parameter %q has %d values", body, k, len(v))
			}
		}
	})
}
