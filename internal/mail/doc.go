// Package mail sends authd's mail: the Mailer interface with an SMTP
// implementation and a development one (Dev) that writes each message to a
// directory and the log; a Queue that sends off the request path with
// retries; and Templates, the plain-text and HTML bodies an operator can
// override.
//
// Requests never wait for mail: handlers Enqueue a Job and answer. A full
// queue drops the job and counts it (Queue.Stats) rather than block; a
// message that cannot be sent after its retries is logged and counted.
//
// The package knows nothing of users or tokens beyond the template data it
// is given; what to send, and when, is internal/auth's business.
package mail
