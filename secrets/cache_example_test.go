package secrets_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/prefect-go/cloudsecrets/client"
	"github.com/prefect-go/cloudsecrets/mockserver"
	"github.com/prefect-go/cloudsecrets/secrets"
)

// With the cache on, a value changed in Cloud shows once the TTL has passed
// or the name is invalidated.
func ExampleWithCache() {
	mock, err := mockserver.New(mockserver.Options{})
	if err != nil {
		panic(err)
	}
	mock.SetSecret(mockserver.DefaultTenant, "DB_PASSWORD", json.RawMessage(`"first"`))

	// The mock answers in-process; a real program leaves out WithCloud and
	// sets cloud.api in its configuration instead.
	cloud, err := client.New("http://127.0.0.1:4200/graphql", client.WithTransport(mock.Transport()))
	if err != nil {
		panic(err)
	}
	cfg := secrets.DefaultConfig()
	cfg.UseLocalSecrets = false
	r, err := secrets.NewResolver(cfg, secrets.WithCloud(cloud), secrets.WithCache(10*time.Minute, 100))
	if err != nil {
		panic(err)
	}

	ctx := context.Background()
	v, _ := r.Get(ctx, "DB_PASSWORD")
	fmt.Println(v)

	mock.SetSecret(mockserver.DefaultTenant, "DB_PASSWORD", json.RawMessage(`"second"`))
	v, _ = r.Get(ctx, "DB_PASSWORD")
	fmt.Println(v, "(cached)")

	r.Invalidate("DB_PASSWORD")
	v, _ = r.Get(ctx, "DB_PASSWORD")
	fmt.Println(v)
	// Output:
	// first
	// first (cached)
	// second
}
