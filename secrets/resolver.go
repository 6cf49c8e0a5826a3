// Package secrets resolves secrets by name the way Prefect Core does.
//
// [Resolver.Get] looks in the run's context first ([WithSecrets], then the
// configuration's [context.secrets]); when the secret is not there it either
// fails with `Local Secret "NAME" was not found.` (use_local_secrets, the
// default) or asks the Prefect Cloud GraphQL API. A string value that parses
// as JSON comes back decoded.
//
//	cfg, err := secrets.LoadConfig() // ~/.prefect/config.toml and PREFECT__ variables
//	r, err := secrets.NewResolver(cfg)
//	v, err := r.Get(ctx, "MY_KEY")
//
// Errors name the secret and the API URL, never a value or a token.
package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/prefect-go/cloudsecrets/client"
)

// Cloud is the part of the Prefect Cloud API a Resolver needs;
// *client.Client implements it. Tests and engines may bring their own.
type Cloud interface {
	SecretValue(ctx context.Context, name string) (json.RawMessage, error)
	SecretNames(ctx context.Context) ([]string, error)
}

// Resolver answers secret look-ups under one configuration. It is safe for
// concurrent use.
type Resolver struct {
	cfg Config

	cloudOnce sync.Once
	cloud     Cloud
	cloudErr  error
	newCloud  func() (Cloud, error)

	cache *secretCache // nil: every Get asks Cloud, as in Prefect Core
}

// Option configures a [Resolver].
type Option func(*Resolver) error

// WithCloud makes the Resolver ask c instead of building a client from the
// configuration.
func WithCloud(c Cloud) Option {
	return func(r *Resolver) error {
		if c == nil {
			return errors.New("WithCloud: nil Cloud")
		}
		r.newCloud = func() (Cloud, error) { return c, nil }
		return nil
	}
}

// WithClientOptions passes options (transport, retries, logger, ...) to the
// client built from the configuration.
func WithClientOptions(opts ...client.Option) Option {
	return func(r *Resolver) error {
		r.newCloud = func() (Cloud, error) { return r.buildClient(opts) }
		return nil
	}
}

// NewResolver returns a Resolver for cfg. The Cloud client is built on first
// use, so a context-only Resolver needs no API settings.
func NewResolver(cfg Config, opts ...Option) (*Resolver, error) {
	r := &Resolver{cfg: cfg}
	r.newCloud = func() (Cloud, error) { return r.buildClient(nil) }
	if err := r.cacheFromConfig(); err != nil {
		return nil, err
	}
	for _, opt := range opts {
		if err := opt(r); err != nil {
			return nil, fmt.Errorf("secrets: %w", err)
		}
	}
	return r, nil
}

// Config returns the configuration the Resolver was made with.
func (r *Resolver) Config() Config { return r.cfg }

func (r *Resolver) buildClient(opts []client.Option) (Cloud, error) {
	endpoint, err := r.cfg.Endpoint()
	if err != nil {
		return nil, err
	}
	all := []client.Option{client.WithToken(r.cfg.Token()), client.WithInsecureToken(r.cfg.AllowInsecureToken)}
	all = append(all, r.cfg.clientOptions()...)
	all = append(all, opts...)
	c, err := client.New(endpoint, all...)
	if err != nil {
		return nil, &ConfigError{File: r.cfg.File, Msg: err.Error()}
	}
	return c, nil
}

// Cloud returns the Cloud API the Resolver asks, building it on first use.
func (r *Resolver) Cloud() (Cloud, error) {
	r.cloudOnce.Do(func() { r.cloud, r.cloudErr = r.newCloud() })
	return r.cloud, r.cloudErr
}

// Get returns the secret's value: from the context, else the configuration's
// context.secrets, else (use_local_secrets false) from Cloud. A string that
// parses as JSON is decoded: '{"x": 42}' becomes map[string]any{"x": int64(42)},
// '42' becomes int64(42); other strings come back as they are. A secret set
// to JSON null is found, with a nil value.
func (r *Resolver) Get(ctx context.Context, name string) (any, error) {
	raw, err := r.lookup(ctx, name)
	if err != nil {
		return nil, err
	}
	return raw.value(), nil
}

// GetString returns a secret that holds a string, exactly as stored: it is
// not decoded as JSON, so "007" stays "007". Any other value is a
// [*ValueTypeError].
func (r *Resolver) GetString(ctx context.Context, name string) (string, error) {
	raw, err := r.lookup(ctx, name)
	if err != nil {
		return "", err
	}
	if s, ok := raw.string(); ok {
		return s, nil
	}
	return "", &ValueTypeError{Name: name, Want: "a string", Got: describe(raw.value())}
}

// Decode stores the secret's value, decoded as [Resolver.Get] does, into the
// Go value v points to, with encoding/json's rules.
func (r *Resolver) Decode(ctx context.Context, name string, v any) error {
	raw, err := r.lookup(ctx, name)
	if err != nil {
		return err
	}
	data, err := raw.json()
	if err == nil {
		err = json.Unmarshal(data, v)
	}
	if err != nil {
		return &ValueTypeError{Name: name, Want: fmt.Sprintf("a value for %T", v), Got: describe(raw.value())}
	}
	return nil
}

// Exists reports whether Get would find the secret, without fetching a Cloud
// value: Cloud is asked for its list of names, as Prefect Core does.
func (r *Resolver) Exists(ctx context.Context, name string) (bool, error) {
	if err := r.precheck(ctx, name); err != nil {
		return false, err
	}
	if _, ok := r.local(ctx, name); ok {
		return true, nil
	}
	if r.cfg.UseLocalSecrets {
		return false, nil
	}
	cloud, err := r.Cloud()
	if err != nil {
		return false, err
	}
	names, err := cloud.SecretNames(ctx)
	if err != nil {
		return false, err
	}
	for _, n := range names {
		if n == name {
			return true, nil
		}
	}
	return false, nil
}

func (r *Resolver) precheck(ctx context.Context, name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if isBuilding(ctx) {
		return fmt.Errorf("secret %q: %w", name, ErrFlowBuilding)
	}
	return nil
}

// local finds a secret in the context, then in the configuration.
func (r *Resolver) local(ctx context.Context, name string) (any, bool) {
	if v, ok := contextSecret(ctx, name); ok {
		return v, true
	}
	v, ok := r.cfg.Secrets[name]
	return v, ok
}

// lookup finds a secret's stored form, following Prefect's order.
func (r *Resolver) lookup(ctx context.Context, name string) (stored, error) {
	if err := r.precheck(ctx, name); err != nil {
		return stored{}, err
	}
	if v, ok := r.local(ctx, name); ok {
		return stored{v: v}, nil
	}
	if r.cfg.UseLocalSecrets {
		return stored{}, &NotFoundError{Name: name, Local: true}
	}

	cloud, err := r.Cloud()
	if err != nil {
		return stored{}, err
	}
	if r.cache != nil {
		return r.cachedLookup(ctx, cloud, name)
	}
	data, err := cloud.SecretValue(ctx, name)
	if errors.Is(err, client.ErrNotFound) {
		return stored{}, &NotFoundError{Name: name, URL: endpointOf(cloud), Err: err}
	}
	if err != nil {
		return stored{}, err
	}
	return stored{raw: data, fromCloud: true}, nil
}

func endpointOf(c Cloud) string {
	if e, ok := c.(interface{ Endpoint() string }); ok {
		return e.Endpoint()
	}
	return "Cloud"
}

// stored is a secret as found: a Go value from the context or
// configuration, or the JSON Cloud answered.
type stored struct {
	v         any
	raw       json.RawMessage
	fromCloud bool
	cached    *cacheEntry // set when raw came from the Resolver's cache
}

// value applies Prefect's decoding.
func (s stored) value() any {
	if s.cached != nil {
		return s.cached.getValue()
	}
	v := s.v
	if s.fromCloud {
		d, err := decodeJSON(s.raw)
		if err != nil {
			return string(s.raw) // the client checked it; keep it rather than lose it
		}
		v = d
	}
	if str, ok := v.(string); ok && mayBeJSON(str) {
		return decodeString(str)
	}
	return v // as it was: no new interface value, no allocation
}

// string returns the stored string, undecoded.
func (s stored) string() (string, bool) {
	if !s.fromCloud {
		str, ok := s.v.(string)
		return str, ok
	}
	var str string
	if json.Unmarshal(s.raw, &str) != nil {
		return "", false
	}
	return str, true
}

// json returns the decoded value as JSON, for Decode.
func (s stored) json() ([]byte, error) {
	if str, ok := s.string(); ok && mayBeJSON(str) && json.Valid([]byte(str)) {
		return []byte(str), nil
	}
	if s.fromCloud {
		return s.raw, nil
	}
	return json.Marshal(s.v)
}
