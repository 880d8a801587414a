package middleware

// CacheTTL exposes cacheTTL to the external tests.
var CacheTTL = cacheTTL
