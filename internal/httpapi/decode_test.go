package httpapi

import "testing"

func TestStrictUnmarshal(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // the error message; empty: accepted
	}{
		{"exact names", `{"email":"a@example.com","password":"correct horse battery"}`, ""},
		{"empty values are present", `{"email":"","password":""}`, ""},
		{"upper-case name", `{"EMAIL":"a@example.com","PassWord":"correct horse battery"}`, `unknown field "EMAIL"`},
		{"name folding to a field", `{"email":"a@example.com","pa\u017f\u017fword":"correct horse battery"}`, "the request body has an unknown field"},
		{"repeated key", `{"email":"a@example.com","email":"b@example.com","password":"x"}`, `field "email" is repeated`},
		{"repeated key, escaped", `{"email":"a@example.com","\u0065mail":"b@example.com","password":"x"}`, `field "email" is repeated`},
		{"missing required field", `{"email":"a@example.com"}`, `field "password" is required`},
		{"null required field", `{"email":"a@example.com","password":null}`, `field "password" is required`},
		{"null body", `null`, "the request body must be a JSON object"},
		{"unknown field", `{"email":"a","password":"b","admin":true}`, `unknown field "admin"`},
		{"trailing data", `{"email":"a","password":"b"} {}`, "the request body has data after the JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst credentials
			err := strictUnmarshal([]byte(tt.body), &dst)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("strictUnmarshal(%s) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}

// TestStrictUnmarshalNested checks repeated keys at any depth, with a
// destination that takes any object.
func TestStrictUnmarshalNested(t *testing.T) {
	for body, want := range map[string]string{
		`{"a":{"b":1,"b":2}}`:           `field "b" is repeated`,
		`{"a":[{"b":1},{"c":1,"c":2}]}`: `field "c" is repeated`,
		`{"x y":1,"x y":2}`:             "the request body has a repeated field",
		`{"a":[{"b":1},{"b":2}]}`:       "",
	} {
		var dst map[string]any
		got := ""
		if err := strictUnmarshal([]byte(body), &dst); err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("strictUnmarshal(%s) = %q, want %q", body, got, want)
		}
	}
}

// TestRequiredFieldsDeclared checks the required fields are read from the
// struct tags, and that a struct without any has none.
func TestRequiredFieldsDeclared(t *testing.T) {
	var reset struct {
		Token    string `json:"token" authd:"required"`
		Password string `json:"password" authd:"required"`
		Note     string `json:"note"`
		skipped  string
	}
	_ = reset.skipped
	if err := strictUnmarshal([]byte(`{"token":"t","password":"p"}`), &reset); err != nil {
		t.Fatal(err)
	}
	if err := strictUnmarshal([]byte(`{"password":"p","note":"n"}`), &reset); err == nil || err.Error() != `field "token" is required` {
		t.Fatalf("missing token: %v", err)
	}
	var optional struct {
		Scope string `json:"scope"`
	}
	if err := strictUnmarshal([]byte(`{}`), &optional); err != nil {
		t.Fatal(err)
	}
	if err := strictUnmarshal([]byte(`{"SCOPE":"global"}`), &optional); err == nil {
		t.Fatal("a case-insensitive match was accepted")
	}
}
