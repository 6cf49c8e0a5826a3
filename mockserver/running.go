package mockserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Running is a [Server] listening on a TCP address, started by [Server.Start].
type Running struct {
	srv      *http.Server
	url      string
	served   chan error
	stopping chan struct{} // closed when Close begins
	stopOnce sync.Once
}

// Start listens on addr, such as "127.0.0.1:0" for a free loopback port, and
// serves [Server.Handler] there in a goroutine until [Running.Close].
//
// On a loopback address, the server answers only requests whose Host
// header names loopback (localhost, 127.0.0.0/8 or [::1]) and refuses
// others with 403, so that a web page cannot reach it through DNS
// rebinding. [Server.Handler], [Server.Transport] and [Server.Responder] do
// not check Host, so that they serve any test host name; like Start, they
// refuse a request from a web page whose Origin is not on loopback.
//
// Note: the mock has no TLS and, without tokens, no authentication. Give it
// a loopback address unless every host that can reach addr may read and
// change its secrets.
func (s *Server) Start(addr string) (*Running, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}

	handler := s.handler
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		handler = withHostCheck(handler)
	}

	stopping := make(chan struct{})
	r := &Running{
		srv: &http.Server{
			Handler: handler,
			BaseContext: func(net.Listener) context.Context {
				return context.WithValue(context.Background(), stoppingKey{}, stopping)
			},
			ReadHeaderTimeout: 10 * time.Second,
			ConnState:         s.counters.connState,
			ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		},
		url:      "http://" + ln.Addr().String(),
		served:   make(chan error, 1),
		stopping: stopping,
	}
	go func() {
		err := r.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		r.served <- err
		close(r.served)
	}()
	return r, nil
}

// URL returns the base URL of the server, such as "http://127.0.0.1:4200" or
// "http://[::1]:4200", with no trailing slash.
func (r *Running) URL() string {
	return r.url
}

// Close stops the server gracefully: it stops accepting connections and waits
// for requests in flight to finish, until ctx ends, then closes what remains.
// Pending latency faults do not wait out their delay: they answer 503 at
// once. It returns ctx's error if requests were cut off, or the error that
// stopped serving early. Calling Close again returns nil.
func (r *Running) Close(ctx context.Context) error {
	r.stopOnce.Do(func() { close(r.stopping) })

	shutdownErr := r.srv.Shutdown(ctx)
	if shutdownErr != nil {
		_ = r.srv.Close()
	}

	serveErr := <-r.served
	return errors.Join(shutdownErr, serveErr)
}
