package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Prefect's defaults for a Secret task's retries.
const (
	DefaultMaxRetries = 2
	DefaultRetryDelay = time.Second
)

// ErrResultHandlerNotConfigurable is the error of [WithResultHandler]: a
// secret task always uses its [SecretResultHandler].
var ErrResultHandlerNotConfigurable = errors.New("result handlers are not configurable for secrets")

// ResultHandler is how a workflow engine persists a task's result: Write
// stores a value and returns where it went; Read brings it back.
type ResultHandler interface {
	Write(value any) (location string, err error)
	Read(ctx context.Context, location string) (any, error)
}

// Task is a workflow task that fetches one named secret at run time, the
// counterpart of Prefect's Secret task. Its result handler is always a
// [SecretResultHandler], which records the secret's name and never its
// value. Retries default to Prefect's: [DefaultMaxRetries] after a delay of
// [DefaultRetryDelay]; [Task.Run] makes one attempt and a [Runner] applies
// the retries.
//
// A Task does not change once made (UnmarshalJSON into one aside) and is
// safe for concurrent use. It marshals to JSON with its name, its store's
// kind and configuration and its retry settings, never a value; see
// [TaskDecoder] for making it again.
type Task struct {
	name       string
	store      Store
	maxRetries int
	retryDelay time.Duration
}

// TaskOption configures a [Task]; see [NewTask].
type TaskOption func(*Task) error

// WithStore makes the task fetch its secret from s instead of the
// [PrefectStore]. When s has a Validate() error method, it is called and a
// failure makes [NewTask] fail.
func WithStore(s Store) TaskOption {
	return func(t *Task) error {
		if s == nil {
			return errors.New("WithStore: nil Store")
		}
		if v, ok := s.(interface{ Validate() error }); ok {
			if err := v.Validate(); err != nil {
				return err
			}
		}
		t.store = s
		return nil
	}
}

// WithResolver makes the task fetch its secret through r; it is short for
// WithStore(PrefectStore{Resolver: r}).
func WithResolver(r *Resolver) TaskOption {
	return func(t *Task) error {
		if r == nil {
			return errors.New("WithResolver: nil *Resolver")
		}
		t.store = PrefectStore{Resolver: r}
		return nil
	}
}

// WithMaxRetries sets how many times a [Runner] retries a failed run; 0
// disables retries.
func WithMaxRetries(n int) TaskOption {
	return func(t *Task) error {
		if n < 0 {
			return fmt.Errorf("WithMaxRetries: %d is negative", n)
		}
		t.maxRetries = n
		return nil
	}
}

// WithRetryDelay sets how long a [Runner] waits before each retry; 0 retries
// at once.
func WithRetryDelay(d time.Duration) TaskOption {
	return func(t *Task) error {
		if d < 0 {
			return fmt.Errorf("WithRetryDelay: %v is negative", d)
		}
		t.retryDelay = d
		return nil
	}
}

// WithResultHandler always makes [NewTask] fail with
// [ErrResultHandlerNotConfigurable]: a secret task's result must never be
// persisted, so its handler cannot be replaced. It exists so that the
// mistake is an error rather than a silent choice.
func WithResultHandler(ResultHandler) TaskOption {
	return func(*Task) error { return ErrResultHandlerNotConfigurable }
}

// NewTask returns the task for the named secret. The name is required
// (errors match [ErrInvalidName]); options apply in order and the first
// that fails is returned.
func NewTask(name string, opts ...TaskOption) (*Task, error) {
	if err := ValidateName(name); err != nil {
		return nil, fmt.Errorf("secret task: %w", err)
	}

	t := &Task{
		name:       name,
		store:      PrefectStore{},
		maxRetries: DefaultMaxRetries,
		retryDelay: DefaultRetryDelay,
	}
	for _, opt := range opts {
		if err := opt(t); err != nil {
			return nil, fmt.Errorf("secret task %q: %w", name, err)
		}
	}
	return t, nil
}

// Name returns the secret's name.
func (t *Task) Name() string { return t.name }

// Store returns the store the task fetches from.
func (t *Task) Store() Store { return t.store }

// MaxRetries returns how many times a [Runner] retries a failed run.
func (t *Task) MaxRetries() int { return t.maxRetries }

// RetryDelay returns how long a [Runner] waits before each retry.
func (t *Task) RetryDelay() time.Duration { return t.retryDelay }

// Run fetches the secret once, from the task's store, and returns its value
// in a [Value]. With the default [PrefectStore] it behaves as
// [Resolver.Get]: the context first, then a not-found error or Cloud,
// depending on use_local_secrets; JSON strings come back decoded. Whatever
// the store, a context made with [WithFlowBuilding] fails with
// [ErrFlowBuilding], and an ended context fails before the store is asked.
func (t *Task) Run(ctx context.Context) (Value, error) {
	if t == nil || t.store == nil {
		return Value{}, errors.New("secret task: not made with NewTask")
	}
	if isBuilding(ctx) {
		return Value{}, fmt.Errorf("secret %q: %w", t.name, ErrFlowBuilding)
	}
	if err := ctx.Err(); err != nil {
		return Value{}, err
	}

	v, err := t.store.Get(ctx, t.name)
	if err != nil {
		return Value{}, err
	}
	return NewValue(v), nil
}

// ResultHandler returns the task's result handler, which stores the
// secret's name in place of its value.
func (t *Task) ResultHandler() *SecretResultHandler { return &SecretResultHandler{task: t} }

// String describes the task: name, store kind and retry settings. String,
// Format and MarshalJSON have value receivers so that a dereferenced Task
// prints and encodes the same way.
func (t Task) String() string {
	if t.store == nil {
		return "secrets.Task{}"
	}
	return fmt.Sprintf("secrets.Task{name=%q store=%s max_retries=%d retry_delay=%v}",
		t.name, t.store.Kind(), t.maxRetries, t.retryDelay)
}

// Format makes every verb print [Task.String], so that no verb can reach
// into a custom store's fields.
func (t Task) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(t.String())) }

// SecretResultHandler is the result handler of every [Task]: the
// counterpart of Prefect's SecretResultHandler. Write persists nothing and
// returns the secret's name; Read runs the task again.
type SecretResultHandler struct {
	task *Task
}

var _ ResultHandler = (*SecretResultHandler)(nil)

// Write returns the secret's name as the result's location. It stores
// nothing and never looks at value, so any value will do: numbers,
// strings, nil, maps, funcs, channels.
func (h *SecretResultHandler) Write(value any) (string, error) {
	if h == nil || h.task == nil {
		return "", errors.New("secret result handler: no task")
	}
	return h.task.name, nil
}

// Read fetches the value again by running the task once ([Task.Run]); the
// result is always a [Value]. location must be what Write returned, the
// secret's name, so that a handler cannot answer for another secret.
func (h *SecretResultHandler) Read(ctx context.Context, location string) (any, error) {
	if h == nil || h.task == nil {
		return nil, errors.New("secret result handler: no task")
	}
	if location != h.task.name {
		// The location is not quoted: whatever was stored in its place
		// could be a value.
		return nil, fmt.Errorf("secret result handler for %q: the location to read is not the secret's name", h.task.name)
	}
	return h.task.Run(ctx)
}

// Task returns the task the handler reads through.
func (h *SecretResultHandler) Task() *Task { return h.task }

// taskJSON is a Task on the wire.
type taskJSON struct {
	Name       string    `json:"name"`
	Store      storeJSON `json:"store"`
	MaxRetries *int      `json:"max_retries,omitempty"`
	RetryDelay *string   `json:"retry_delay,omitempty"` // a Go duration, e.g. "1s"
}

type storeJSON struct {
	Kind   string          `json:"kind"`
	Config json.RawMessage `json:"config,omitempty"`
}

// MarshalJSON writes the task's name, its store's kind, the store's
// configuration when the store implements json.Marshaler, and the retry
// settings:
//
//	{"name":"DB","store":{"kind":"env","config":{"var":"DB_PASSWORD"}},"max_retries":2,"retry_delay":"1s"}
//
// A task holds no value, so none can be written.
func (t Task) MarshalJSON() ([]byte, error) {
	if t.store == nil {
		return nil, errors.New("secret task: not made with NewTask")
	}

	w := taskJSON{Name: t.name, Store: storeJSON{Kind: t.store.Kind()}}
	retries, delay := t.maxRetries, t.retryDelay.String()
	w.MaxRetries, w.RetryDelay = &retries, &delay
	if m, ok := t.store.(json.Marshaler); ok {
		cfg, err := m.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("secret task %q: store %q configuration: %w", t.name, w.Store.Kind, err)
		}
		w.Store.Config = cfg
	}
	return json.Marshal(w)
}

// UnmarshalJSON makes the task again from [Task.MarshalJSON]'s output, as
// the zero [TaskDecoder] does: the built-in stores only, a [PrefectStore]
// using [Default], an [EnvStore] reading the process environment. Use a
// TaskDecoder to bind a Resolver or to decode stores of your own.
func (t *Task) UnmarshalJSON(data []byte) error {
	nt, err := TaskDecoder{}.Decode(data)
	if err != nil {
		return err
	}
	*t = *nt
	return nil
}

// TaskDecoder makes tasks from the JSON that [Task.MarshalJSON] writes and
// binds what JSON cannot carry. Its zero value decodes the built-in stores.
type TaskDecoder struct {
	// Resolver is given to tasks of kind "prefect"; nil leaves them on
	// [Default].
	Resolver *Resolver

	// Lookup is given to tasks of kind "env" as [EnvStore.Lookup].
	Lookup func(key string) (string, bool)

	// Stores makes stores of other kinds, or replaces a built-in kind,
	// from the store's "config" (nil when there was none).
	Stores map[string]func(config json.RawMessage) (Store, error)
}

// Decode makes a task from data. Unknown fields are errors, so that a typo
// is not a silently ignored setting.
func (d TaskDecoder) Decode(data []byte) (*Task, error) {
	var w taskJSON
	if err := strictJSON(data, &w); err != nil {
		return nil, fmt.Errorf("secret task JSON: %w", err)
	}

	store, err := d.store(w.Store)
	if err != nil {
		return nil, fmt.Errorf("secret task %q JSON: %w", w.Name, err)
	}
	opts := []TaskOption{WithStore(store)}
	if w.MaxRetries != nil {
		opts = append(opts, WithMaxRetries(*w.MaxRetries))
	}
	if w.RetryDelay != nil {
		delay, err := time.ParseDuration(*w.RetryDelay)
		if err != nil {
			return nil, fmt.Errorf("secret task %q JSON: retry_delay %q is not a duration such as \"1s\"", w.Name, *w.RetryDelay)
		}
		opts = append(opts, WithRetryDelay(delay))
	}
	return NewTask(w.Name, opts...)
}

// store makes the store a task's JSON names.
func (d TaskDecoder) store(w storeJSON) (Store, error) {
	if build, ok := d.Stores[w.Kind]; ok {
		return build(w.Config)
	}

	switch w.Kind {
	case KindPrefect:
		return PrefectStore{Resolver: d.Resolver}, nil
	case KindEnv:
		s := EnvStore{}
		if err := strictConfig(w, &s); err != nil {
			return nil, err
		}
		s.Lookup = d.Lookup
		return s, nil
	case KindFile:
		s := FileStore{}
		if err := strictConfig(w, &s); err != nil {
			return nil, err
		}
		return s, nil
	case "":
		return nil, errors.New("the store has no kind")
	}
	return nil, fmt.Errorf("unknown store kind %q; a TaskDecoder needs a constructor for it", w.Kind)
}

func strictConfig(w storeJSON, v any) error {
	if len(w.Config) == 0 {
		return nil
	}
	if err := strictJSON(w.Config, v); err != nil {
		return fmt.Errorf("store %q configuration: %w", w.Kind, err)
	}
	return nil
}

// strictJSON decodes one JSON value and refuses unknown fields.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
