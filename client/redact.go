package client

import (
	"errors"
	"fmt"
	"strings"
)

// redacted replaces the client's token wherever a server sent it back.
const redacted = "[REDACTED]"

// minTokenTail is the shortest tail of a cut-off snippet that is taken for
// the start of the token and removed.
const minTokenTail = 4

// Format makes every verb print [Client.String], so that none can reach the
// token through the struct's fields.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// scrubToken removes the client's token from the text a server sent that
// ends up in err: an error page's snippet and GraphQL messages. A proxy or
// server that echoes the Authorization header would otherwise put the
// token into the error. err is changed in place; it is new to this call.
func scrubToken(err error, token string) error {
	if token == "" || err == nil {
		return err
	}

	var herr *HTTPError
	if errors.As(err, &herr) {
		herr.Snippet = scrubText(herr.Snippet, token)
	}
	var list GraphQLErrors
	if errors.As(err, &list) {
		for _, g := range list {
			g.Message = scrubText(g.Message, token)
		}
	}
	var one *GraphQLError
	if errors.As(err, &one) {
		one.Message = scrubText(one.Message, token)
	}
	return err
}

// scrubText replaces every whole token in s, and the start of one where s
// was cut short with "…".
func scrubText(s, token string) string {
	s = strings.ReplaceAll(s, token, redacted)

	body, cut := strings.CutSuffix(s, "…")
	if !cut {
		return s
	}
	for n := min(len(token)-1, len(body)); n >= minTokenTail; n-- {
		if strings.HasSuffix(body, token[:n]) {
			return body[:len(body)-n] + redacted + "…"
		}
	}
	return s
}
