// Package consumertest proves what a service that depends on authd's
// libraries inherits: its test writes fresh consumer modules that use
// pkg/middleware, points them at this tree with a replace directive, and
// lists the packages they link. It holds no code of its own.
package consumertest
