package client_test

import (
	"testing"

	"github.com/prefect-go/cloudsecrets/bench/benchcases"
)

// BenchmarkGetOverLoopback compares a Get through the default client with
// the floor: a bare net/http POST of the same request bytes to a server
// that answers the same bytes. "client" asks the mock; "client-only" asks
// the floor server, which leaves out the mock's own work.
func BenchmarkGetOverLoopback(b *testing.B) {
	mock, floor, _ := benchcases.StartWithFloor(b, 10)

	b.Run("client", mock.BenchmarkGet)
	b.Run("floor", floor.BenchmarkPost)
	b.Run("client-only", floor.BenchmarkGet)
}
