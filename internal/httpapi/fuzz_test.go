package httpapi

import (
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
		"the form body is malformed":                      true,
		"a parameter is repeated":                         true,
	}
	fieldTypeError  = regexp.MustCompile(`^field "(email|password)" must be (a string|a boolean|a number|an array|an object|of another type)$`)
	unknownFieldErr = regexp.MustCompile(`^unknown field "[A-Za-z0-9_.-]{1,64}"$`)
	repeatedParam   = regexp.MustCompile(`^parameter "[A-Za-z0-9_.-]{1,64}" is repeated$`)
)

// FuzzStrictUnmarshal feeds any body to the JSON decoder of the API's
// request structs: it must never panic, every error must be one of the
// known messages (so no body bytes beyond a short field name come back),
// and what it accepts must survive a round trip.
func FuzzStrictUnmarshal(f *testing.F) {
	for _, s := range []string{
		`{"email":"a@example.com","password":"correct horse battery"}`,
		`{"email":1}`, `{"admin":true}`, `[]`, `"x"`, `{}`, ``, `{"email":"a"} {}`, `{"email":`,
		`{"\u0061dmin":1}`, `{"email":{"a":[1,2]}}`, `null`, `{"password":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst credentials
		err := strictUnmarshal(body, &dst)
		if err != nil {
			msg := err.Error()
			if !fixedDecodeErrors[msg] && !fieldTypeError.MatchString(msg) && !unknownFieldErr.MatchString(msg) {
				t.Fatalf("strictUnmarshal(%q): unexpected message %q", body, msg)
			}
			return
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

// FuzzDecodeForm feeds any body to the form decoder: it must never panic,
// errors must be known messages, and an accepted form has no repeated
// parameter.
func FuzzDecodeForm(f *testing.F) {
	for _, s := range []string{
		"grant_type=refresh_token&refresh_token=a.b.c", "a=1&a=2", "%zz=1", "a;b=c", "", "=", "&&&",
		"token=" + string(make([]byte, 10)), "x%00y=1&x%00y=2",
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
