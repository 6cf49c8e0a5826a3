package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// withheld stands for server text that quoted the call's token or value.
const withheld = "[server text withheld: it quoted the request's token or value]"

// maxServerText bounds how much of one server message an error keeps.
const maxServerText = 300

// minSecretLen is the shortest token or value the client looks for in server
// text: anything shorter cannot be told apart from ordinary words.
const minSecretLen = 4

// probeLen is how much of a secret's start counts as quoting it, so that a
// token the server cut short is still caught.
const probeLen = 8

// Format makes every verb print [Client.String], so that none can reach the
// token through the struct's fields.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// scrub cleans the text a server sent that ends up in err (an error page's
// snippet, GraphQL messages): control characters become spaces, long text is
// cut, and text that quotes any of secrets (the token, the value being set)
// is withheld whole. A proxy or server that echoes the Authorization header
// or the request body would otherwise put them into the error. err is
// changed in place; it is new to this call.
func scrub(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	var herr *HTTPError
	if errors.As(err, &herr) {
		herr.Snippet = cleanText(herr.Snippet, secrets)
	}
	var list GraphQLErrors
	if errors.As(err, &list) {
		for _, g := range list {
			g.Message = cleanText(g.Message, secrets)
		}
	}
	var one *GraphQLError
	if errors.As(err, &one) {
		one.Message = cleanText(one.Message, secrets)
	}
	return err
}

// cleanText makes one piece of server text safe to show.
func cleanText(s string, secrets []string) string {
	for _, secret := range secrets {
		if quotes(s, secret) {
			return withheld
		}
	}
	return printable(s, maxServerText)
}

// quotes reports whether s holds secret, or its first probeLen bytes, or
// ends ("…") with at least minSecretLen bytes of its start.
func quotes(s, secret string) bool {
	if len(secret) < minSecretLen {
		return false
	}
	if strings.Contains(s, secret[:min(probeLen, len(secret))]) {
		return true
	}
	body, cut := strings.CutSuffix(strings.TrimSpace(s), "…")
	if !cut {
		return false
	}
	for n := min(probeLen, len(secret)) - 1; n >= minSecretLen; n-- {
		if strings.HasSuffix(body, secret[:n]) {
			return true
		}
	}
	return false
}

// printable replaces control characters with spaces and cuts s to limit
// bytes, so that server text cannot move a terminal's cursor or flood it.
func printable(s string, limit int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= limit {
			b.WriteString("…")
			break
		}
		if unicode.IsPrint(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// valueSecrets lists what of a value being set must never come back in an
// error: its JSON, and every string in it long enough to recognise.
func valueSecrets(value []byte) []string {
	out := []string{string(value)}
	var v any
	if json.Unmarshal(value, &v) != nil {
		return out
	}
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case string:
			if len(t) >= minSecretLen {
				out = append(out, t)
			}
		case map[string]any:
			for _, e := range t {
				walk(e)
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}
