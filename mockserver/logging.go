package mockserver

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// requestNote collects, while a request is served, what its log line reports
// beyond what the http.Request says. Only the request's own goroutine writes it.
type requestNote struct {
	tenant    string
	operation string
	fields    []string
}

type noteKey struct{}

// noteTenant records the authenticated tenant for the log line.
func noteTenant(ctx context.Context, tenant string) {
	if n, ok := ctx.Value(noteKey{}).(*requestNote); ok {
		n.tenant = tenant
	}
}

// noteOperation records the GraphQL operation name and root fields.
func noteOperation(ctx context.Context, name string, fields []string) {
	if n, ok := ctx.Value(noteKey{}).(*requestNote); ok {
		n.operation = name
		n.fields = fields
	}
}

// logRequests logs one line per request: method, path, status, duration,
// tenant, and the operation's name and root fields. It never logs headers,
// bodies, variables or query strings, where tokens and values travel.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if !s.logger.Enabled(ctx, slog.LevelInfo) {
			next.ServeHTTP(w, r)
			return
		}

		start := time.Now()
		note := &requestNote{}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(ctx, noteKey{}, note)))

		s.logger.LogAttrs(ctx, slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status()),
			slog.Duration("duration", time.Since(start)),
			slog.String("tenant", note.tenant),
			slog.String("operation", note.operation),
			slog.String("fields", strings.Join(note.fields, ",")),
		)
	})
}

// statusRecorder remembers the status code a handler sends.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter {
	return r.ResponseWriter
}

func (r *statusRecorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}
