package secrets_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prefect-go/cloudsecrets/secrets"
)

func ExampleNewTask() {
	r, _ := secrets.NewResolver(secrets.DefaultConfig()) // local secrets only
	task, _ := secrets.NewTask("API_TOKEN", secrets.WithResolver(r))
	fmt.Println(task.MaxRetries(), task.RetryDelay())

	// The context first, as Prefect's Secret.get; JSON strings are decoded.
	ctx := secrets.WithSecrets(context.Background(), map[string]any{"API_TOKEN": `{"id": 7}`})
	v, err := task.Run(ctx)
	fmt.Println(v, v.Reveal(), err)

	// The result handler records the name, never the value.
	location, _ := task.ResultHandler().Write(v)
	fmt.Println(location)

	_, err = secrets.NewTask("API_TOKEN", secrets.WithResultHandler(nil))
	fmt.Println(err)
	// Output:
	// 2 1s
	// [REDACTED] map[id:7] <nil>
	// API_TOKEN
	// secret task "API_TOKEN": result handlers are not configurable for secrets
}

func ExampleRunner_Run() {
	calls := 0
	store := flakyStore(func() error {
		if calls++; calls < 3 {
			return fmt.Errorf("backend busy")
		}
		return nil
	})
	task, _ := secrets.NewTask("K", secrets.WithStore(store), secrets.WithRetryDelay(time.Millisecond))

	v, err := secrets.Runner{}.Run(context.Background(), task)
	fmt.Println(v.Reveal(), err, calls)
	// Output: ok <nil> 3
}

// flakyStore answers "ok" once its function returns nil.
type flakyStore func() error

func (flakyStore) Kind() string { return "flaky" }

func (f flakyStore) Get(context.Context, string) (any, error) {
	if err := f(); err != nil {
		return nil, err
	}
	return "ok", nil
}

func ExampleValue() {
	v := secrets.NewValue("hunter2")
	fmt.Printf("%v %s %q %#v\n", v, v, v, v)

	data, _ := json.Marshal(map[string]any{"password": v})
	fmt.Println(string(data))

	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	logger.Info("fetched", "password", v)

	fmt.Println(v.Reveal())
	// Output:
	// [REDACTED] [REDACTED] "[REDACTED]" [REDACTED]
	// {"password":"[REDACTED]"}
	// level=INFO msg=fetched password=[REDACTED]
	// hunter2
}

func ExampleEnvStore() {
	env := map[string]string{"PGPORT": "5432"}
	store := secrets.EnvStore{
		Var:    "PGPORT",
		Cast:   secrets.CastInt,
		Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	}
	task, _ := secrets.NewTask("db-port", secrets.WithStore(store))

	v, _ := task.Run(context.Background())
	fmt.Printf("%T %v\n", v.Reveal(), v.Reveal())
	// Output: int64 5432
}

func ExampleFileStore() {
	dir, _ := os.MkdirTemp("", "secrets-example-")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "db_password"), []byte("hunter2\n"), 0o600)

	// Dir would be secrets.DockerSecretsDir in a Docker container.
	task, _ := secrets.NewTask("db_password", secrets.WithStore(secrets.FileStore{Dir: dir}))
	v, _ := task.Run(context.Background())
	fmt.Printf("%q\n", v.Reveal())

	_, err := secrets.FileStore{Dir: dir}.Get(context.Background(), "api_key")
	fmt.Println(err != nil)
	// Output:
	// "hunter2"
	// true
}

func ExampleTask_MarshalJSON() {
	store := secrets.EnvStore{Var: "DB_PASSWORD", Required: true}
	task, _ := secrets.NewTask("db", secrets.WithStore(store), secrets.WithMaxRetries(0))
	data, _ := json.Marshal(task)
	fmt.Println(string(data))

	var back secrets.Task
	err := json.Unmarshal(data, &back)
	fmt.Println(back.Name(), back.Store().Kind(), back.MaxRetries(), err)
	// Output:
	// {"name":"db","store":{"kind":"env","config":{"var":"DB_PASSWORD","required":true}},"max_retries":0,"retry_delay":"1s"}
	// db env 0 <nil>
}

func ExampleTaskDecoder() {
	r, _ := secrets.NewResolver(secrets.DefaultConfig())
	d := secrets.TaskDecoder{Resolver: r} // binds tasks of kind "prefect" to r

	task, _ := d.Decode([]byte(`{"name":"K","store":{"kind":"prefect"},"max_retries":1,"retry_delay":"250ms"}`))
	ctx := secrets.WithSecrets(context.Background(), map[string]any{"K": 42})
	v, _ := task.Run(ctx)
	fmt.Println(task, v.Reveal())
	// Output: secrets.Task{name="K" store=prefect max_retries=1 retry_delay=250ms} 42
}
