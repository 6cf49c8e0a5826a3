package secrets

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
)

// How a Resolver and a Config show themselves. fmt prints a struct's
// unexported fields by reflection, without calling their methods, so a
// Resolver needs its own Format to keep its Config's token and context
// secrets out of %v; and encoding/json and slog's JSON handler read a
// Config's exported fields unless told otherwise.

// String describes the Resolver by its configuration, without tokens or
// secret values; see [Config.String].
func (r *Resolver) String() string { return "secrets.Resolver{" + r.cfg.String() + "}" }

// Format makes every verb print [Resolver.String].
func (r *Resolver) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(r.String())) }

// LogValue makes log/slog record [Config.String], with either handler.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON encodes [Config.String] as a JSON string, so that encoding a
// Config, alone or inside something else, writes no token or secret value.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// hideUserinfo drops the user, password, query and fragment from a URL for
// display: any of them can hold a token. A URL that does not parse is shown as a placeholder.
func hideUserinfo(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable URL>"
	}
	u.User = nil
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return u.String()
}
