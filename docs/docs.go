// Package docs embeds the documents authd serves, so the binary carries the
// same OpenAPI description the repository documents.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml, served at /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
