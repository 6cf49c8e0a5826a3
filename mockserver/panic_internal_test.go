package mockserver

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestRecoverPanicLogsNoPanicValue: the log line names the panic's type and
// the field, never the value, which may hold a secret.
func TestRecoverPanicLogsNoPanicValue(t *testing.T) {
	tests := []struct {
		name     string
		value    any
		wantType string
	}{
		{"string", "value s3cr3t-value", "string"},
		{"error", errors.New("bad s3cr3t-value"), "*errors.errorString"},
		{"struct", struct{ V string }{"s3cr3t-value"}, "struct { V string }"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			s, err := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			fc := &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "secret_value"}}}
			ctx := graphql.WithFieldContext(context.Background(), fc)

			gqlErr := s.recoverPanic(ctx, tt.value)

			out := logs.String()
			if strings.Contains(out, "s3cr3t") || strings.Contains(gqlErr.Error(), "s3cr3t") {
				t.Errorf("the panic value leaked: log %q, error %v", out, gqlErr)
			}
			if !strings.Contains(out, "resolver panic") || !strings.Contains(out, tt.wantType) || !strings.Contains(out, "path=secret_value") {
				t.Errorf("log = %q; want the panic's type %q and the path", out, tt.wantType)
			}
		})
	}
}
