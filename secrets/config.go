package secrets

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/prefect-go/cloudsecrets/client"
)

// The environment variables that LoadConfig reads, as Prefect Core names them.
// Any PREFECT__CONTEXT__SECRETS__NAME variable defines the secret NAME,
// keeping its case.
const (
	EnvUserConfigPath  = "PREFECT__USER_CONFIG_PATH"
	EnvAPI             = "PREFECT__CLOUD__API"
	EnvGraphQL         = "PREFECT__CLOUD__GRAPHQL"
	EnvAuthToken       = "PREFECT__CLOUD__AUTH_TOKEN"
	EnvAPIKey          = "PREFECT__CLOUD__API_KEY"
	EnvUseLocalSecrets = "PREFECT__CLOUD__USE_LOCAL_SECRETS"
	EnvSecretPrefix    = "PREFECT__CONTEXT__SECRETS__"
)

// The environment variables of the cache of Cloud values, which is off unless
// EnvCacheTTL is a positive Go duration such as "30s"; see [WithCache].
const (
	EnvCacheTTL        = "PREFECT__CLOUD__CACHE_TTL"
	EnvCacheMaxEntries = "PREFECT__CLOUD__CACHE_MAX_ENTRIES"
)

// The environment variables that bound calls to Cloud: the whole call
// (retries and waits included) and each HTTP request, as Go durations such
// as "90s", and the number of retries after a failed request.
const (
	EnvRequestTimeout = "PREFECT__CLOUD__REQUEST_TIMEOUT"
	EnvAttemptTimeout = "PREFECT__CLOUD__ATTEMPT_TIMEOUT"
	EnvMaxRetries     = "PREFECT__CLOUD__MAX_RETRIES"
)

// EnvAllowInsecureToken, true or false in any case, is
// cloud.allow_insecure_token: whether the token may go over plain http to a
// host that is not loopback (see [client.WithInsecureToken]). It is false
// unless set.
const EnvAllowInsecureToken = "PREFECT__CLOUD__ALLOW_INSECURE_TOKEN"

// DefaultConfigPath is the user config file, relative to the home directory.
const DefaultConfigPath = ".prefect/config.toml"

// Config is the part of Prefect Core's configuration that secrets use. Its
// zero value is not the default: start from [DefaultConfig] or [LoadConfig].
//
// Printing a Config with any verb shows which settings are present, never a
// token or a secret value.
type Config struct {
	API             string         // cloud.api, e.g. "https://api.prefect.io"
	GraphQL         string         // cloud.graphql; when empty, API + "/graphql"
	AuthToken       string         // cloud.auth_token (Prefect Core before 0.15)
	APIKey          string         // cloud.api_key; wins over AuthToken
	UseLocalSecrets bool           // cloud.use_local_secrets; true is Prefect's default
	CacheTTL        time.Duration  // cloud.cache_ttl; 0, the default, caches nothing
	CacheMaxEntries int            // cloud.cache_max_entries; 0: DefaultCacheMaxEntries
	RequestTimeout  time.Duration  // cloud.request_timeout: one Cloud call, retries included; 0: client.DefaultTimeout
	AttemptTimeout  time.Duration  // cloud.attempt_timeout: one HTTP request; 0: client.DefaultAttemptTimeout
	MaxRetries      *int           // cloud.max_retries: retries after a failure; nil: client.DefaultRetries, 0: none
	Secrets         map[string]any // context.secrets
	File            string         // the config file read, "" when none

	// AllowInsecureToken is cloud.allow_insecure_token: send the token over
	// plain http to a host that is not loopback. False, the default, makes
	// such an API URL a configuration error.
	AllowInsecureToken bool
}

// DefaultConfig is Prefect Core's default: local secrets only, none defined.
func DefaultConfig() Config {
	return Config{UseLocalSecrets: true}
}

// Endpoint is the GraphQL URL: cloud.graphql when set, else cloud.api +
// "/graphql". It is an error when neither is set.
func (c Config) Endpoint() (string, error) {
	if c.GraphQL != "" {
		return c.GraphQL, nil
	}
	if c.API == "" {
		return "", &ConfigError{Msg: "Cloud secrets need cloud.api (or " + EnvAPI + ") to be set"}
	}
	endpoint, err := url.JoinPath(c.API, "graphql")
	if err != nil {
		return "", &ConfigError{File: c.File, Msg: "cloud.api is not a URL"}
	}
	return endpoint, nil
}

// Token is the credential sent to Cloud: cloud.api_key, else cloud.auth_token.
func (c Config) Token() string {
	if c.APIKey != "" {
		return c.APIKey
	}
	return c.AuthToken
}

// String shows the settings without tokens or secret values.
func (c Config) String() string {
	names := make([]string, 0, len(c.Secrets))
	for n := range c.Secrets {
		names = append(names, n)
	}
	sort.Strings(names)
	return fmt.Sprintf("secrets.Config{api=%q graphql=%q token=%s use_local_secrets=%t secrets=%v file=%q}",
		hideUserinfo(c.API), hideUserinfo(c.GraphQL), present(c.Token() != ""), c.UseLocalSecrets, names, c.File)
}

// GoString is the same as String, so that %#v cannot print a token either.
func (c Config) GoString() string { return c.String() }

// Format makes every verb (%v, %+v, %#v, %s, %q) print [Config.String].
func (c Config) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

func present(ok bool) string {
	if ok {
		return "<set>"
	}
	return "<unset>"
}

// ConfigError is a configuration problem: a file that does not parse, a
// setting of the wrong type, a missing API URL. It names the file, line and
// key, never a value.
type ConfigError struct {
	File string
	Line int // 0 when unknown
	Col  int
	Msg  string
}

func (e *ConfigError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("config file %q: line %d, column %d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.File != "":
		return fmt.Sprintf("config file %q: %s", e.File, e.Msg)
	}
	return "configuration: " + e.Msg
}

// LoadConfig reads Prefect's configuration the way Prefect Core does: the
// defaults, then the user config file, then PREFECT__SECTION__KEY
// environment variables, each overriding the one before. Everything is read
// and checked before anything is applied, so a bad setting changes nothing.
func LoadConfig() (Config, error) {
	return LoadConfigEnv(os.Environ())
}

// LoadConfigEnv is [LoadConfig] with the environment given as "KEY=value"
// strings, for tests and embedders.
func LoadConfigEnv(environ []string) (Config, error) {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}

	cfg := DefaultConfig()
	path, explicit := configPath(env)
	if path != "" {
		if err := cfg.readFile(path, explicit); err != nil {
			return Config{}, err
		}
	}
	if err := cfg.applyEnv(env); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// configPath is the user config file and whether the user named it.
func configPath(env map[string]string) (string, bool) {
	if p := env[EnvUserConfigPath]; p != "" {
		return expandHome(p, env), true
	}
	home := env["HOME"]
	if home == "" {
		return "", false
	}
	return filepath.Join(home, DefaultConfigPath), false
}

func expandHome(p string, env map[string]string) string {
	if home := env["HOME"]; home != "" && (p == "~" || strings.HasPrefix(p, "~/")) {
		return filepath.Join(home, p[1:])
	}
	return p
}

// fileConfig is the shape of config.toml that secrets read; other sections
// and keys are Prefect's and are left alone.
type fileConfig struct {
	Cloud struct {
		API             *string `toml:"api"`
		GraphQL         *string `toml:"graphql"`
		AuthToken       *string `toml:"auth_token"`
		APIKey          *string `toml:"api_key"`
		UseLocalSecrets *bool   `toml:"use_local_secrets"`
		CacheTTL        *string `toml:"cache_ttl"`
		CacheMaxEntries *int64  `toml:"cache_max_entries"`
		RequestTimeout  *string `toml:"request_timeout"`
		AttemptTimeout  *string `toml:"attempt_timeout"`
		MaxRetries      *int64  `toml:"max_retries"`

		AllowInsecureToken *bool `toml:"allow_insecure_token"`
	} `toml:"cloud"`
	Context struct {
		Secrets map[string]any `toml:"secrets"`
	} `toml:"context"`
}

// readFile applies the config file at path. A missing default file is no
// error; a missing file the user named is.
func (c *Config) readFile(path string, explicit bool) error {
	data, err := readConfigFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return nil
	}
	if err != nil {
		return &ConfigError{File: path, Msg: "cannot be read: " + describeFSError(err)}
	}

	var fc fileConfig
	if _, err := toml.Decode(string(data), &fc); err != nil {
		return tomlError(path, err)
	}

	next := *c
	next.File = path
	setString(&next.API, fc.Cloud.API)
	setString(&next.GraphQL, fc.Cloud.GraphQL)
	setString(&next.AuthToken, fc.Cloud.AuthToken)
	setString(&next.APIKey, fc.Cloud.APIKey)
	if fc.Cloud.UseLocalSecrets != nil {
		next.UseLocalSecrets = *fc.Cloud.UseLocalSecrets
	}
	if fc.Cloud.AllowInsecureToken != nil {
		next.AllowInsecureToken = *fc.Cloud.AllowInsecureToken
	}
	if err := next.setCache(fc.Cloud.CacheTTL, fc.Cloud.CacheMaxEntries); err != nil {
		return &ConfigError{File: path, Msg: err.Error()}
	}
	if err := next.setRetries(fc.Cloud.RequestTimeout, fc.Cloud.AttemptTimeout, fc.Cloud.MaxRetries); err != nil {
		return &ConfigError{File: path, Msg: err.Error()}
	}
	if len(fc.Context.Secrets) > 0 {
		next.Secrets = mergeSecrets(next.Secrets, fc.Context.Secrets)
	}
	*c = next
	return nil
}

// maxConfigBytes bounds the config file read; Prefect's are a few KiB.
const maxConfigBytes = 1 << 20

// readConfigFile reads a regular file of at most maxConfigBytes, so that a
// path naming a device or a pipe fails at once instead of hanging or
// filling memory.
func readConfigFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("larger than %d KiB", maxConfigBytes>>10)
	}
	return data, nil
}

// tomlError keeps the position and kind of a TOML error but drops the
// parser's message, which can quote the text around the error: a token.
func tomlError(path string, err error) error {
	var perr toml.ParseError
	if errors.As(err, &perr) {
		msg := "is not valid TOML"
		if perr.LastKey != "" {
			msg += fmt.Sprintf(" (after key %q)", perr.LastKey)
		}
		return &ConfigError{File: path, Line: perr.Position.Line, Col: perr.Position.Col, Msg: msg}
	}

	// A value of the wrong type: the library reports it as plain text of the
	// form `toml: line N (last key "KEY"): incompatible types: ...`.
	ce := &ConfigError{File: path, Msg: "a setting has the wrong type"}
	text := err.Error()
	_, _ = fmt.Sscanf(text, "toml: line %d", &ce.Line)
	if _, rest, ok := strings.Cut(text, "(last key "); ok {
		if key, _, ok := strings.Cut(rest, "):"); ok {
			ce.Msg += " (key " + key + ")"
		}
	}
	if ce.Line > 0 {
		ce.Col = 1
	}
	return ce
}

func describeFSError(err error) string {
	var perr *fs.PathError
	if errors.As(err, &perr) {
		return perr.Err.Error()
	}
	return err.Error()
}

func setString(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// applyEnv applies PREFECT__ variables over c, or changes nothing on error.
func (c *Config) applyEnv(env map[string]string) error {
	next := *c
	strs := []struct {
		key string
		dst *string
	}{
		{EnvAPI, &next.API},
		{EnvGraphQL, &next.GraphQL},
		{EnvAuthToken, &next.AuthToken},
		{EnvAPIKey, &next.APIKey},
	}
	for _, s := range strs {
		if v, ok := env[s.key]; ok {
			*s.dst = v
		}
	}

	if v, ok := env[EnvUseLocalSecrets]; ok {
		b, err := parseBool(v)
		if err != nil {
			return &ConfigError{Msg: EnvUseLocalSecrets + " must be true or false"}
		}
		next.UseLocalSecrets = b
	}
	if v, ok := env[EnvAllowInsecureToken]; ok {
		b, err := parseBool(v)
		if err != nil {
			return &ConfigError{Msg: EnvAllowInsecureToken + " must be true or false"}
		}
		next.AllowInsecureToken = b
	}

	fromEnv := map[string]any{}
	for k, v := range env {
		if name, ok := strings.CutPrefix(k, EnvSecretPrefix); ok && name != "" {
			fromEnv[name] = v
		}
	}
	if len(fromEnv) > 0 {
		next.Secrets = mergeSecrets(next.Secrets, fromEnv)
	}

	if err := next.setCacheFromEnv(env); err != nil {
		return err
	}
	if err := next.setRetriesFromEnv(env); err != nil {
		return err
	}

	*c = next
	return nil
}

// parseBool reads "true" or "false" in any case, as Prefect Core does.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errors.New("not a boolean")
}

// mergeSecrets returns a new map: base overridden by over.
func mergeSecrets(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// maxRetriesLimit bounds cloud.max_retries: more would only hide an outage.
const maxRetriesLimit = 100

// setRetries applies cloud.request_timeout, cloud.attempt_timeout and
// cloud.max_retries from the config file; nil means the key is absent. Its
// errors name the key.
func (c *Config) setRetries(request, attempt *string, retries *int64) error {
	for _, d := range []struct {
		key string
		v   *string
		dst *time.Duration
	}{
		{"cloud.request_timeout", request, &c.RequestTimeout},
		{"cloud.attempt_timeout", attempt, &c.AttemptTimeout},
	} {
		if d.v == nil {
			continue
		}
		v, err := parseTimeout(*d.v)
		if err != nil {
			return errors.New(d.key + " " + err.Error())
		}
		*d.dst = v
	}

	if retries != nil {
		if *retries < 0 || *retries > maxRetriesLimit {
			return fmt.Errorf("cloud.max_retries must be a whole number from 0 to %d", maxRetriesLimit)
		}
		n := int(*retries)
		c.MaxRetries = &n
	}
	return nil
}

// setRetriesFromEnv applies EnvRequestTimeout, EnvAttemptTimeout and
// EnvMaxRetries.
func (c *Config) setRetriesFromEnv(env map[string]string) error {
	for _, d := range []struct {
		key string
		dst *time.Duration
	}{
		{EnvRequestTimeout, &c.RequestTimeout},
		{EnvAttemptTimeout, &c.AttemptTimeout},
	} {
		v, ok := env[d.key]
		if !ok {
			continue
		}
		t, err := parseTimeout(v)
		if err != nil {
			return &ConfigError{Msg: d.key + " " + err.Error()}
		}
		*d.dst = t
	}

	if v, ok := env[EnvMaxRetries]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 || n > maxRetriesLimit {
			return &ConfigError{Msg: fmt.Sprintf("%s must be a whole number from 0 to %d", EnvMaxRetries, maxRetriesLimit)}
		}
		c.MaxRetries = &n
	}
	return nil
}

// parseTimeout reads a positive Go duration such as "90s" or "2m".
func parseTimeout(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 {
		return 0, errors.New(`must be a positive Go duration such as "90s" or "2m"`)
	}
	return d, nil
}

// clientOptions are the client settings the configuration makes: its
// timeouts and retries, where set.
func (c Config) clientOptions() []client.Option {
	var opts []client.Option
	if c.RequestTimeout > 0 {
		opts = append(opts, client.WithTimeout(c.RequestTimeout))
	}
	if c.AttemptTimeout > 0 {
		opts = append(opts, client.WithAttemptTimeout(c.AttemptTimeout))
	}
	if c.MaxRetries != nil {
		opts = append(opts, client.WithRetries(*c.MaxRetries))
	}
	return opts
}
