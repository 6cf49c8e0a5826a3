package mockserver_test

import (
	"fmt"
	"testing"

	"github.com/prefect-go/cloudsecrets/bench/benchcases"
)

// BenchmarkThroughput compares the mock with a trivial net/http handler that
// answers the same bytes, both on loopback under the same load: 64
// connections posting the client's secret_value request. 1e9 / (ns/op) is
// requests per second.
func BenchmarkThroughput(b *testing.B) {
	mock, trivial, x := benchcases.StartWithFloor(b, 10)

	b.Run("mock", func(b *testing.B) { benchcases.BenchmarkLoad(b, mock.URL()+"/graphql", x) })
	b.Run("trivial", func(b *testing.B) { benchcases.BenchmarkLoad(b, trivial.URL(), x) })
}

// BenchmarkGetByStoreSize measures a Get through the default client against
// mocks holding 10 and 100,000 secrets: the store's size should not show.
func BenchmarkGetByStoreSize(b *testing.B) {
	for _, size := range []int{10, 100_000} {
		mock, err := benchcases.StartMock(size)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprint(size), mock.BenchmarkGet)
		mock.Close()
	}
}
