package secrets_test

import (
	"context"
	"fmt"

	"github.com/prefect-go/cloudsecrets/secrets"
)

// vaultStore is a custom secret store: a map standing in for a vault client.
type vaultStore struct{ data map[string]string }

func (vaultStore) Kind() string { return "vault" }

func (s vaultStore) Get(_ context.Context, name string) (any, error) {
	v, ok := s.data[name]
	if !ok {
		return nil, fmt.Errorf("vault: secret %q: %w", name, secrets.ErrNotFound)
	}
	return v, nil
}

// A custom store plugs into a Task, which keeps its secret result handler.
func Example_customStore() {
	store := vaultStore{data: map[string]string{"DB_PASSWORD": "hunter2"}}
	task, _ := secrets.NewTask("DB_PASSWORD", secrets.WithStore(store))

	v, _ := secrets.Runner{}.Run(context.Background(), task)
	location, _ := task.ResultHandler().Write(v)
	fmt.Println(v, v.Reveal(), location)
	// Output: [REDACTED] hunter2 DB_PASSWORD
}
