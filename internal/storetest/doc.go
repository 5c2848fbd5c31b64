// Package storetest holds the contract suites of the store interfaces:
// the same scenarios run against every implementation (SQLite, FerretDB
// embedded in the test process, and a real MongoDB when
// BANHAO_TEST_MONGODB_URI names one), so the stores cannot drift apart.
//
// FerretDB is linked into this package's test binary only; nothing else
// in the module imports it.
package storetest
