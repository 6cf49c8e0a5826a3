package mockserver

import (
	"net"
	"net/http"
	"sync/atomic"
)

// Stats counts what the server has served since it was made, for tests:
// [Server.Stats] returns it and GET /_mock/stats answers it as JSON.
type Stats struct {
	// Requests is the number of GraphQL requests received (POST on /,
	// /graphql or /graphql/alpha), faults included.
	Requests int64 `json:"requests"`

	// Faults is the number of faults served, by kind; every kind is listed.
	Faults map[FaultKind]int64 `json:"faults"`

	// FaultsTotal is the sum of Faults.
	FaultsTotal int64 `json:"faults_total"`

	// Connections is the number of TCP connections accepted, and
	// OpenConnections the number not yet closed. Only a server started with
	// [Server.Start] counts them: served through [Server.Handler] or
	// [Server.Transport], both stay 0.
	Connections     int64 `json:"connections"`
	OpenConnections int64 `json:"open_connections"`
}

// counters are the live counts behind [Stats].
type counters struct {
	requests    atomic.Int64
	faults      [faultKindCount]atomic.Int64
	connections atomic.Int64
	open        atomic.Int64
}

func (c *counters) fault(k FaultKind) {
	for i, kind := range faultKinds() {
		if kind == k {
			c.faults[i].Add(1)
			return
		}
	}
}

// connState is an http.Server ConnState hook that counts connections.
func (c *counters) connState(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		c.connections.Add(1)
		c.open.Add(1)
	case http.StateHijacked, http.StateClosed:
		c.open.Add(-1)
	}
}

func (c *counters) snapshot() Stats {
	st := Stats{
		Requests:        c.requests.Load(),
		Faults:          make(map[FaultKind]int64, faultKindCount),
		Connections:     c.connections.Load(),
		OpenConnections: c.open.Load(),
	}
	for i, k := range faultKinds() {
		n := c.faults[i].Load()
		st.Faults[k] = n
		st.FaultsTotal += n
	}
	return st
}

// Stats returns the server's counts so far.
func (s *Server) Stats() Stats {
	return s.counters.snapshot()
}
