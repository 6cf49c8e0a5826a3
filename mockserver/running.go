package mockserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Running is a [Server] listening on a TCP address, started by [Server.Start].
type Running struct {
	srv    *http.Server
	url    string
	served chan error
}

// Start listens on addr, such as "127.0.0.1:0" for a free loopback port, and
// serves [Server.Handler] there in a goroutine until [Running.Close].
//
// Note: the mock has no TLS and, without tokens, no authentication. Give it
// a loopback address unless every host that can reach addr may read and
// change its secrets.
func (s *Server) Start(addr string) (*Running, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}

	r := &Running{
		srv: &http.Server{
			Handler:           s.handler,
			ReadHeaderTimeout: 10 * time.Second,
			ConnState:         s.counters.connState,
			ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		},
		url:    "http://" + ln.Addr().String(),
		served: make(chan error, 1),
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
// It returns ctx's error if requests were cut off, or the error that stopped
// serving early. Calling Close again returns nil.
func (r *Running) Close(ctx context.Context) error {
	shutdownErr := r.srv.Shutdown(ctx)
	if shutdownErr != nil {
		_ = r.srv.Close()
	}

	serveErr := <-r.served
	return errors.Join(shutdownErr, serveErr)
}
