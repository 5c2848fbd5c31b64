package mongo

import (
	"errors"

	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// unavailableCodes are server error codes that say the server cannot
// serve now (shutting down, stepping down, no primary, a network fault
// between servers, an operation out of time), not that the request was
// wrong.
var unavailableCodes = []int{
	6,     // HostUnreachable
	7,     // HostNotFound
	50,    // MaxTimeMSExpired
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
}

// IsUnavailable reports whether err is MongoDB failing rather than the
// request: no server could be selected (down, unreachable, no primary),
// a network error or timeout on the connection, a server shutting down or
// stepping down, or the client already disconnected. The HTTP layer
// answers these with 503 and Retry-After instead of a 500. A bare
// context error (the request's own deadline, with no driver error around
// it) is not counted: it says nothing about the store.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, mongodrv.ErrClientDisconnected) || errors.Is(err, topology.ErrTopologyClosed) {
		return true
	}
	var sse topology.ServerSelectionError
	if errors.As(err, &sse) {
		return true
	}
	var wqe topology.WaitQueueTimeoutError
	if errors.As(err, &wqe) {
		return true
	}
	if mongodrv.IsNetworkError(err) {
		return true
	}
	var se mongodrv.ServerError
	if errors.As(err, &se) {
		for _, c := range unavailableCodes {
			if se.HasErrorCode(c) {
				return true
			}
		}
		return se.HasErrorLabel("NetworkTimeoutError") || se.HasErrorLabel("RetryableWriteError")
	}
	return false
}
