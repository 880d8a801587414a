// Package deployments holds no code: it is a separate Go module whose tests
// check that the Kubernetes manifests decode strictly into the Kubernetes API
// types and that docker-compose.yml is well formed, without pulling the
// Kubernetes libraries into authd's own module.
package deployments
