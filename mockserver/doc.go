// Package mockserver is an in-memory stand-in for the Prefect Cloud secrets
// GraphQL API, for tests and local development.
//
// A [Server] answers the operations that Prefect Core's Python clients and
// this module's client send: secret_value, secret_names, set_secret and
// delete_secret, and the deprecated camelCase secretValue and setSecret that
// Prefect Core 0.7 to 0.10 used. The GraphQL itself is executed by gqlgen,
// generated from the module's schema.graphql.
//
// Secrets live in memory, one set per tenant, and with [Options.DataFile]
// in a file too, which every acknowledged change reaches before it is
// answered. [Options.Tokens] maps API tokens to tenants; with no tokens the
// server is open and every request acts on [DefaultTenant]. Limits on
// names, values and queries ([DefaultMaxValueBytes] and its kin) answer
// with GraphQL errors that say which limit was passed.
//
// A test can reach a Server in three ways: [Server.Handler] for
// net/http/httptest, [Server.Transport] or [Server.Responder] to stay in the
// process with no socket, and [Server.Start] to listen on a loopback port.
//
// For testing clients against a flaky API, a [Faults] plan makes the server
// answer a share of requests with HTTP 429 or 5xx, transient GraphQL
// errors, an HTML page or cut-off JSON, a dropped connection, or a late
// answer, drawn from a seeded random source; the [FaultHeader] request
// header asks for one exact fault. [Server.Stats] (GET /_mock/stats) counts
// requests, faults and connections. Faults act only on requests that pass
// the token check, and [Options.AdminToken] can keep the admin endpoints
// from the API's tokens.
//
// A web page must not be able to use the mock: GraphQL requests must be
// application/json, a request with an Origin that is not on loopback is
// refused, and [Server.Start] on a loopback address refuses a Host header
// that does not name loopback.
package mockserver
