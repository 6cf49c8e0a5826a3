package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prefect-go/cloudsecrets/client"
)

const persistToken = "persist-token-6623"

// persistStderr is a buffer that the mock's stderr copier and the test may
// use at once.
type persistStderr struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *persistStderr) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *persistStderr) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// persistMock is a prefect-mockserver process that the test may kill.
type persistMock struct {
	cmd    *exec.Cmd
	url    string
	stderr *persistStderr
	exited chan error // receives the process's end once
}

// startPersistMock runs the mock binary on a free loopback port. A process
// still running when the test ends gets SIGKILL.
func startPersistMock(t *testing.T, args ...string) *persistMock {
	t.Helper()

	p := &persistMock{stderr: &persistStderr{}, exited: make(chan error, 1)}
	p.cmd = exec.Command(bin.mock, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})

	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
		err := p.cmd.Wait()
		p.exited <- err
		close(p.exited)
	}()

	select {
	case url, ok := <-lines:
		if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
			t.Fatalf("first line %q is not a loopback URL; stderr: %s", url, p.stderr)
		}
		p.url = url
	case <-time.After(30 * time.Second):
		t.Fatalf("the mock printed no URL in 30 s; stderr: %s", p.stderr)
	}
	return p
}

// persistClient is a client of the mock that does not retry, so that every
// answer it reports is the answer to one request.
func persistClient(t *testing.T, url string) *client.Client {
	t.Helper()

	c, err := client.New(url+"/graphql", client.WithToken(persistToken), client.WithRetries(0), client.WithTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// persistValue is the value written under the i-th name; they differ in
// length so that a write cut short would show.
func persistValue(i int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"i":%d,"pad":%q}`, i, strings.Repeat("v", i%97)))
}

// TestAcknowledgedWritesSurviveSIGKILL kills the mock with SIGKILL while
// 1,000 sets are under way, restarts it on the same data file, and finds
// every set it had acknowledged.
func TestAcknowledgedWritesSurviveSIGKILL(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGKILL on Windows")
	}
	data := filepath.Join(t.TempDir(), "secrets.data")
	args := []string{"--token", persistToken + "=team", "--data", data}
	first := startPersistMock(t, args...)
	c := persistClient(t, first.url)

	const (
		total     = 1000
		inFlight  = 128 // requests under way at once
		killAfter = 300 // acknowledgements before the kill
	)
	var (
		mu       sync.Mutex
		acked    = make(map[int]bool)
		failed   atomic.Int32
		killOnce sync.Once
		wg       sync.WaitGroup
	)
	kill := func() {
		if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Errorf("SIGKILL: %v", err)
		}
	}
	slots := make(chan struct{}, inFlight)
	for i := range total {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()

			err := c.SetSecret(context.Background(), fmt.Sprintf("K%04d", i), persistValue(i))
			if err != nil {
				failed.Add(1)
				return
			}
			mu.Lock()
			acked[i] = true
			n := len(acked)
			mu.Unlock()
			if n == killAfter {
				killOnce.Do(kill)
			}
		})
	}
	wg.Wait()

	select {
	case err := <-first.exited:
		if err == nil || !strings.Contains(err.Error(), "killed") {
			t.Errorf("the first mock ended with %v, want killed by SIGKILL", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the first mock did not end 30 s after SIGKILL")
	}
	if len(acked) < killAfter || failed.Load() == 0 {
		t.Fatalf("%d sets acknowledged and %d failed: the kill did not land during the sets", len(acked), failed.Load())
	}
	t.Logf("%d of %d sets acknowledged before SIGKILL, %d failed", len(acked), total, failed.Load())

	second := startPersistMock(t, args...)
	c2 := persistClient(t, second.url)
	names, err := c2.SecretNames(context.Background())
	if err != nil {
		t.Fatalf("after the restart: %v; stderr: %s", err, second.stderr)
	}

	stored := make(map[string]bool, len(names))
	for _, n := range names {
		stored[n] = true
	}
	for i := range total {
		name := fmt.Sprintf("K%04d", i)
		if !stored[name] {
			if acked[i] {
				t.Errorf("%s was acknowledged but is gone after the restart", name)
			}
			continue
		}
		// Acknowledged or not, what is there must be what was sent.
		got, err := c2.SecretValue(context.Background(), name)
		if err != nil || !bytes.Equal(got, persistValue(i)) {
			t.Errorf("%s = %s, %v; want %s", name, got, err, persistValue(i))
		}
		delete(stored, name)
	}
	if len(stored) != 0 {
		t.Errorf("names nobody wrote: %v", stored)
	}
}
