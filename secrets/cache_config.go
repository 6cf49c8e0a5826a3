package secrets

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// setCache applies cloud.cache_ttl and cloud.cache_max_entries from the
// config file; nil means the key is absent. Its errors name the key, never
// the value.
func (c *Config) setCache(ttl *string, maxEntries *int64) error {
	if ttl != nil {
		d, err := parseCacheTTL(*ttl)
		if err != nil {
			return errors.New("cloud.cache_ttl " + err.Error())
		}
		c.CacheTTL = d
	}
	if maxEntries != nil {
		if *maxEntries < 0 || *maxEntries > math.MaxInt32 {
			return errors.New("cloud.cache_max_entries must be a whole number from 0 to 2147483647")
		}
		c.CacheMaxEntries = int(*maxEntries)
	}
	return nil
}

// setCacheFromEnv applies EnvCacheTTL and EnvCacheMaxEntries.
func (c *Config) setCacheFromEnv(env map[string]string) error {
	if v, ok := env[EnvCacheTTL]; ok {
		d, err := parseCacheTTL(v)
		if err != nil {
			return &ConfigError{Msg: EnvCacheTTL + " " + err.Error()}
		}
		c.CacheTTL = d
	}
	if v, ok := env[EnvCacheMaxEntries]; ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil || n < 0 {
			return &ConfigError{Msg: EnvCacheMaxEntries + " must be a whole number from 0 to 2147483647"}
		}
		c.CacheMaxEntries = int(n)
	}
	return nil
}

// parseCacheTTL reads a Go duration such as "30s" or "5m"; "0" and "" turn
// the cache off.
func parseCacheTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New(`must be a Go duration such as "30s" or "5m", or "0" for no cache`)
	}
	if d < 0 {
		return 0, errors.New("must not be negative")
	}
	return d, nil
}
