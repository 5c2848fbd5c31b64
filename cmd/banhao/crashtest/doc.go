// Package crashtest holds the crash test of the real banhao binary: it
// builds the server and the load tool, drives the tool's mixed scenario,
// kills the server with SIGKILL at random moments, restarts it, and checks
// that every acknowledged write survived, consistent. It has no code of
// its own outside the test, and lives apart from cmd/banhao so that the
// server's own test binary stays lean.
package crashtest
