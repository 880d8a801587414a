package mongostore

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/authd/authd/pkg/store"
)

// errInvalid marks a call the store refuses before touching the database
// (a required field is empty): the caller's mistake, no sentinel.
var errInvalid = errors.New("invalid argument")

// unavailableCodes are server error codes meaning "not now": the server is
// shutting down, stepping down, not primary, out of time or resources.
// Matched by code, never by message.
var unavailableCodes = []int{
	6,     // HostUnreachable
	7,     // HostNotFound
	89,    // NetworkTimeout
	91,    // ShutdownInProgress
	189,   // PrimarySteppedDown
	262,   // ExceededTimeLimit
	9001,  // SocketException
	10107, // NotWritablePrimary
	11600, // InterruptedAtShutdown
	11602, // InterruptedDueToReplStateChange
	13435, // NotPrimaryNoSecondaryOk
	13436, // NotPrimaryOrSecondary
	50,    // MaxTimeMSExpired
}

// isUnavailable reports whether err means the database could not serve the
// call for now: a network error, a timeout, no server selectable, or one
// of unavailableCodes.
func isUnavailable(err error) bool {
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) {
		return true
	}
	if errors.Is(err, mongo.ErrClientDisconnected) || errors.Is(err, topology.ErrTopologyClosed) {
		return true
	}
	if _, ok := errors.AsType[topology.ServerSelectionError](err); ok {
		return true
	}
	if se, ok := errors.AsType[mongo.ServerError](err); ok {
		for _, c := range unavailableCodes {
			if se.HasErrorCode(c) {
				return true
			}
		}
	}
	return false
}

// mapErr wraps err with op, adding the contract's sentinel when the
// driver's error has one: duplicate key (11000) is store.ErrAlreadyExists,
// no document store.ErrNotFound, and isUnavailable store.ErrUnavailable.
// The driver error stays in the chain for logs.
func mapErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case mongo.IsDuplicateKeyError(err):
		return fmt.Errorf("mongostore: %s: %w: %w", op, store.ErrAlreadyExists, err)
	case errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("mongostore: %s: %w", op, store.ErrNotFound)
	case errors.Is(err, context.Canceled):
		// The caller gave up: not the store's fault (a deadline that ran
		// out while the server did not answer is, below).
		return fmt.Errorf("mongostore: %s: %w", op, err)
	case isUnavailable(err):
		return fmt.Errorf("mongostore: %s: %w: %w", op, store.ErrUnavailable, err)
	default:
		return fmt.Errorf("mongostore: %s: %w", op, err)
	}
}

// notFound is store.ErrNotFound for what, with the store's prefix.
func notFound(what string, id any) error {
	return fmt.Errorf("mongostore: %s %q: %w", what, fmt.Sprint(id), store.ErrNotFound)
}

// readErr maps the error of reading one document: none there is
// notFound(what, id), any other error mapErr(op), nil stays nil.
func readErr(err error, op, what string, id any) error {
	if errors.Is(err, mongo.ErrNoDocuments) {
		return notFound(what, id)
	}
	return mapErr(op, err)
}

// updateErr maps the outcome of updating one document: an error is
// mapErr(op), no document matched notFound(what, id).
func updateErr(res *mongo.UpdateResult, err error, op, what string, id any) error {
	if err != nil {
		return mapErr(op, err)
	}
	if res.MatchedCount == 0 {
		return notFound(what, id)
	}
	return nil
}
