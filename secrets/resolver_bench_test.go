package secrets_test

import (
	"testing"

	"github.com/prefect-go/cloudsecrets/bench/benchcases"
)

// BenchmarkGetFromContext measures Get of a secret carried by the context:
// a plain string, and a JSON string that Get decodes into a map.
func BenchmarkGetFromContext(b *testing.B) {
	b.Run("string", benchcases.BenchmarkContextGetString)
	b.Run("json-map", benchcases.BenchmarkContextGetJSONMap)
}

// BenchmarkCachedGet measures a cache hit of a Cloud-mode Get, against the
// mock on loopback: a string, and a JSON object each Get gets a copy of.
func BenchmarkCachedGet(b *testing.B) {
	mock, err := benchcases.StartMock(10)
	if err != nil {
		b.Fatal(err)
	}
	defer mock.Close()

	b.Run("string", mock.BenchmarkCachedGetString)
	b.Run("map", mock.BenchmarkCachedGetMap)
}
