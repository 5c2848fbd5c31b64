//go:build !unix

package main

// lockDataDir is a no-op where flock is missing: stop the server before a
// restore.
func lockDataDir(string) (func(), error) { return func() {}, nil }
