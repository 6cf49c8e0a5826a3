package secrets

import (
	"context"
	"sync"
)

// Secret is a named secret bound to a [Resolver], the counterpart of
// Prefect's Secret(name).
type Secret struct {
	name string
	r    *Resolver
}

// Secret returns the named secret; nothing is looked up until Get.
func (r *Resolver) Secret(name string) Secret { return Secret{name: name, r: r} }

// Name is the secret's name.
func (s Secret) Name() string { return s.name }

// Get returns the value; see [Resolver.Get].
func (s Secret) Get(ctx context.Context) (any, error) { return s.r.Get(ctx, s.name) }

// GetString returns a string value as stored; see [Resolver.GetString].
func (s Secret) GetString(ctx context.Context) (string, error) { return s.r.GetString(ctx, s.name) }

// Decode decodes the value into v; see [Resolver.Decode].
func (s Secret) Decode(ctx context.Context, v any) error { return s.r.Decode(ctx, s.name, v) }

// String shows the name only.
func (s Secret) String() string { return "Secret(" + s.name + ")" }

// defaultResolver is built once, from the environment, by Default.
var defaultResolver = sync.OnceValues(func() (*Resolver, error) {
	cfg, err := LoadConfig()
	if err != nil {
		return nil, err
	}
	return NewResolver(cfg)
})

// Default returns the zero-configuration Resolver: configuration read once,
// on first use, from ~/.prefect/config.toml and PREFECT__ environment
// variables. Programs that want control build their own with [NewResolver].
func Default() (*Resolver, error) { return defaultResolver() }

// Get resolves name with the [Default] Resolver.
func Get(ctx context.Context, name string) (any, error) {
	r, err := Default()
	if err != nil {
		return nil, err
	}
	return r.Get(ctx, name)
}
