// Package mockserver is an in-memory stand-in for the Prefect Cloud secrets
// GraphQL API, for tests and local development.
//
// A [Server] answers the operations that Prefect Core's Python clients and
// this module's client send: secret_value, secret_names, set_secret and
// delete_secret, and the deprecated camelCase secretValue and setSecret that
// Prefect Core 0.7 to 0.10 used. The GraphQL itself is executed by gqlgen,
// generated from the module's schema.graphql.
//
// Secrets live in memory, one set per tenant. [Options.Tokens] maps API
// tokens to tenants; with no tokens the server is open and every request
// acts on [DefaultTenant].
//
// A test can reach a Server in three ways: [Server.Handler] for
// net/http/httptest, [Server.Transport] or [Server.Responder] to stay in the
// process with no socket, and [Server.Start] to listen on a loopback port.
package mockserver
