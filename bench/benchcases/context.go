package benchcases

import (
	"context"
	"reflect"
	"testing"

	"github.com/prefect-go/cloudsecrets/secrets"
)

// contextSecrets are the secrets the context benchmarks carry: a plain
// string, and a JSON string that Get decodes into a map.
var contextSecrets = map[string]any{
	SecretName: secretValue,
	MapName:    mapValue,
}

// BenchmarkContextGetString measures Resolver.Get of a plain string secret
// found in the context (WithSecrets): no I/O, no decoding.
func BenchmarkContextGetString(b *testing.B) {
	benchmarkContextGet(b, SecretName, secretValue)
}

// BenchmarkContextGetJSONMap measures Resolver.Get of a context secret whose
// string value is JSON, which Get decodes into a fresh map every time.
func BenchmarkContextGetJSONMap(b *testing.B) {
	benchmarkContextGet(b, MapName, mapWant())
}

func benchmarkContextGet(b *testing.B, name string, want any) {
	r, err := secrets.NewResolver(secrets.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	ctx := secrets.WithSecrets(context.Background(), contextSecrets)
	if v, err := r.Get(ctx, name); err != nil || !reflect.DeepEqual(v, want) {
		b.Fatalf("Get(%s) does not give the expected value (err %v)", name, err)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := r.Get(ctx, name); err != nil {
			b.Fatal(err)
		}
	}
}
