package client

import (
	"net/http"
	"testing"
	"time"
)

func answerWith(status int, retryAfterValue string) *http.Response {
	resp := &http.Response{StatusCode: status, Header: make(http.Header)}
	if retryAfterValue != "" {
		resp.Header.Set("Retry-After", retryAfterValue)
	}
	return resp
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		resp   *http.Response
		want   time.Duration
		wantOK bool
	}{
		{"seconds on 429", answerWith(429, "30"), 30 * time.Second, true},
		{"seconds on 503", answerWith(503, " 7 "), 7 * time.Second, true},
		{"zero seconds", answerWith(429, "0"), 0, true},
		{"HTTP date ahead", answerWith(503, now.Add(90*time.Second).Format(http.TimeFormat)), 90 * time.Second, true},
		{"HTTP date in the past is no wait", answerWith(429, now.Add(-time.Hour).Format(http.TimeFormat)), 0, true},
		{"RFC 850 date", answerWith(429, now.Add(time.Minute).Format("Monday, 02-Jan-06 15:04:05 GMT")), time.Minute, true},
		{"huge seconds are bounded", answerWith(429, "9999999999999"), 24 * time.Hour, true},
		{"negative seconds ignored", answerWith(429, "-5"), 0, false},
		{"garbage ignored", answerWith(503, "soon"), 0, false},
		{"absent", answerWith(503, ""), 0, false},
		{"ignored on 500", answerWith(500, "30"), 0, false},
		{"ignored on 502", answerWith(502, "30"), 0, false},
		{"no answer", nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := retryAfter(tt.resp, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("retryAfter = %v, %t; want %v, %t", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestBackoffHonoursRetryAfterUpToTheCap(t *testing.T) {
	p := &policy{waitMax: 10 * time.Second}
	lo, hi := 100*time.Millisecond, 10*time.Second

	if got := p.backoff(lo, hi, 0, answerWith(429, "3")); got != 3*time.Second {
		t.Errorf("Retry-After 3 on 429: wait %v, want 3s", got)
	}
	if got := p.backoff(lo, hi, 0, answerWith(503, "30")); got != 10*time.Second {
		t.Errorf("Retry-After 30 on 503: wait %v, want the 10s cap", got)
	}
	if got := p.backoff(lo, hi, 0, answerWith(429, "0")); got != 0 {
		t.Errorf("Retry-After 0: wait %v, want 0", got)
	}
}

func TestBackoffIsExponentialWithJitter(t *testing.T) {
	p := &policy{waitMax: time.Second}
	lo, hi := 100*time.Millisecond, time.Second

	for attempt, full := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		full *= time.Millisecond
		seen := map[time.Duration]bool{}
		for range 200 {
			// A 500 with a Retry-After is not a wait request: backoff as usual.
			got := p.backoff(lo, hi, attempt, answerWith(500, "30"))
			if got < full/2 || got > full {
				t.Fatalf("attempt %d: wait %v outside [%v, %v]", attempt, got, full/2, full)
			}
			seen[got] = true
		}
		if len(seen) < 10 {
			t.Errorf("attempt %d: only %d distinct waits in 200 draws; want jitter", attempt, len(seen))
		}
	}
}

func TestBackoffWithoutWaitIsZero(t *testing.T) {
	p := &policy{}
	if got := p.backoff(0, 0, 3, nil); got != 0 {
		t.Errorf("wait %v with zero bounds, want 0", got)
	}
}
