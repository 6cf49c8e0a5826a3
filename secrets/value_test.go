package secrets_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/prefect-go/cloudsecrets/secrets"
)

const valueCanary = "val-value-canary-7731"

func TestValuePrintsTheMaskWithEveryVerb(t *testing.T) {
	v := secrets.NewValue(valueCanary)
	tests := []struct {
		verb string
		want string
	}{
		{"%v", secrets.Mask},
		{"%+v", secrets.Mask},
		{"%#v", secrets.Mask},
		{"%s", secrets.Mask},
		{"%q", `"` + secrets.Mask + `"`},
		{"%x", secrets.Mask},
		{"%X", secrets.Mask},
		{"%d", secrets.Mask},
		{"%10.3s", secrets.Mask},
	}
	for _, tt := range tests {
		t.Run(tt.verb, func(t *testing.T) {
			for _, arg := range []any{v, &v} {
				if got := fmt.Sprintf(tt.verb, arg); got != tt.want {
					t.Errorf("Sprintf(%q, %T) = %q, want %q", tt.verb, arg, got, tt.want)
				}
			}
		})
	}
	if v.String() != secrets.Mask || v.GoString() != secrets.Mask {
		t.Errorf("String/GoString = %q/%q", v.String(), v.GoString())
	}
	if fmt.Sprint(v) != secrets.Mask || fmt.Sprintln(v) != secrets.Mask+"\n" {
		t.Errorf("Sprint/Sprintln = %q/%q", fmt.Sprint(v), fmt.Sprintln(v))
	}
}

// Values inside other things: fmt reaches unexported fields by reflection,
// without calling their methods, so the value must not sit in a field.
func TestValueHiddenInsideContainers(t *testing.T) {
	v := secrets.NewValue(valueCanary)
	type exported struct{ Password secrets.Value }
	type unexported struct{ password secrets.Value }
	containers := map[string]any{
		"exported field":     exported{v},
		"unexported field":   unexported{v},
		"pointer to struct":  &unexported{v},
		"slice":              []secrets.Value{v},
		"map":                map[string]secrets.Value{"k": v},
		"map of any":         map[string]any{"k": v},
		"error wrapping one": fmt.Errorf("wrapped %v", v),
	}
	for name, c := range containers {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
			if out := fmt.Sprintf(verb, c); strings.Contains(out, valueCanary) {
				t.Errorf("%s with %s: %q", name, verb, out)
			}
		}
	}
}

func TestValueInLogs(t *testing.T) {
	v := secrets.NewValue(map[string]any{"password": valueCanary})
	for name, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler {
			return slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
		},
		"json": func(b *bytes.Buffer) slog.Handler {
			return slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
		},
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(newHandler(&buf))
			logger.Debug("got", "value", v, slog.Any("any", v), slog.Group("g", "nested", v))
			logger.With("bound", v).Info("again", "list", []any{v})
			out := buf.String()
			if strings.Contains(out, valueCanary) {
				t.Fatalf("log holds the value:\n%s", out)
			}
			if strings.Count(out, secrets.Mask) != 5 {
				t.Errorf("want the mask 5 times:\n%s", out)
			}
		})
	}
}

func TestValueEncodesAsTheMask(t *testing.T) {
	v := secrets.NewValue(valueCanary)
	data, err := json.Marshal(map[string]any{"direct": v, "nested": struct{ V secrets.Value }{v}, "ptr": &v})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"direct":"[REDACTED]","nested":{"V":"[REDACTED]"},"ptr":"[REDACTED]"}`
	if string(data) != want {
		t.Errorf("json.Marshal = %s, want %s", data, want)
	}

	type doc struct{ V secrets.Value }
	x, err := xml.Marshal(doc{v})
	if err != nil || strings.Contains(string(x), valueCanary) || !strings.Contains(string(x), secrets.Mask) {
		t.Errorf("xml.Marshal = %s, %v", x, err)
	}

	var back secrets.Value
	if err := json.Unmarshal([]byte(`"[REDACTED]"`), &back); err == nil {
		t.Error("a Value was decoded from JSON; it should never round-trip")
	}
}

func TestValueReveal(t *testing.T) {
	fn := func() {}
	tests := []struct {
		name string
		in   any
	}{
		{"string", valueCanary},
		{"number", int64(42)},
		{"nil", nil},
		{"map", map[string]any{"x": int64(1)}},
		{"error", errors.New("e")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := secrets.NewValue(tt.in).Reveal(); !reflect.DeepEqual(got, tt.in) {
				t.Errorf("Reveal = %#v, want %#v", got, tt.in)
			}
		})
	}
	if got := secrets.NewValue(fn).Reveal(); reflect.ValueOf(got).Pointer() != reflect.ValueOf(fn).Pointer() {
		t.Error("a func did not come back")
	}
	var zero secrets.Value
	if zero.Reveal() != nil || fmt.Sprint(zero) != secrets.Mask {
		t.Errorf("zero Value = %#v, %v", zero.Reveal(), zero)
	}
	inner := secrets.NewValue(valueCanary)
	if got := secrets.NewValue(inner).Reveal(); got != valueCanary {
		t.Errorf("NewValue(Value) wrapped twice: Reveal = %#v", got)
	}
}
