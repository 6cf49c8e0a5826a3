package mockserver

import (
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// codeForbidden and codeUnsupportedMediaType are the extensions.code values
// of requests refused by the guards below.
const (
	codeForbidden            = "FORBIDDEN"
	codeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
)

// Messages of the guards. None quotes the request.
const (
	msgHostNotLoopback   = "the Host header does not name a loopback address: this mock listens on loopback and answers only requests addressed to localhost, 127.0.0.1 or [::1]"
	msgOriginNotLoopback = "the request comes from a web page whose Origin is not on loopback; the mock does not serve other sites"
	msgNotJSON           = "a GraphQL request must have Content-Type: application/json"
)

// isLoopbackHost reports whether host, a host or host:port as in a Host
// header or a URL, names loopback: "localhost" or an IP address in
// 127.0.0.0/8 or ::1. Any other name could be made to resolve anywhere (DNS
// rebinding), so it is not loopback.
func isLoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	host = strings.TrimSuffix(host, ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isLoopbackOrigin reports whether an Origin header value is a web origin on
// loopback. "null", which sandboxed pages and local files send, is not.
func isLoopbackOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	return isLoopbackHost(u.Host)
}

// withOriginCheck refuses, with 403, a request that carries an Origin header
// not on loopback: only a browser sends one, and a page from another site
// has no business reading or changing the mock's secrets (CSRF). Clients
// that are not browsers send no Origin and pass.
func withOriginCheck(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, origin := range r.Header.Values("Origin") {
			if !isLoopbackOrigin(origin) {
				writeError(w, http.StatusForbidden, codeForbidden, msgOriginNotLoopback, false)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// withHostCheck refuses, with 403, a request whose Host header does not name
// loopback. [Server.Start] puts it in front of a server listening on a
// loopback address, where a browser tricked by DNS rebinding would send a
// foreign name in Host.
func withHostCheck(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopbackHost(r.Host) {
			writeError(w, http.StatusForbidden, codeForbidden, msgHostNotLoopback, false)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isJSONContentType reports whether a Content-Type value is application/json,
// with or without parameters such as charset.
func isJSONContentType(value string) bool {
	mediaType, _, err := mime.ParseMediaType(value)
	return err == nil && mediaType == "application/json"
}

// checkJSONContentType answers 415 and returns false unless r declares a
// JSON body. A web page can send a cross-site POST without asking first
// only as text/plain, a form or with no type at all, so requiring JSON keeps
// such pages out.
func checkJSONContentType(w http.ResponseWriter, r *http.Request) bool {
	if isJSONContentType(r.Header.Get("Content-Type")) {
		return true
	}
	writeError(w, http.StatusUnsupportedMediaType, codeUnsupportedMediaType, msgNotJSON, false)
	return false
}
