package mockserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/prefect-go/cloudsecrets/client"
	"github.com/prefect-go/cloudsecrets/mockserver"
)

// A server that answers every request with HTTP 503, and a client that
// gives up after two retries.
func ExampleServer_SetFaults() {
	srv, err := mockserver.New(mockserver.Options{
		Seed: map[string]json.RawMessage{"MY_KEY": json.RawMessage(`"v"`)},
	})
	if err != nil {
		panic(err)
	}
	if err := srv.SetFaults(mockserver.Faults{Rates: map[mockserver.FaultKind]float64{mockserver.Fault503: 1}}); err != nil {
		panic(err)
	}

	c, err := client.New("http://mock.invalid/graphql",
		client.WithTransport(srv.Transport()),
		client.WithRetries(2),
		client.WithRetryWait(time.Millisecond, time.Millisecond),
	)
	if err != nil {
		panic(err)
	}

	_, err = c.SecretValue(context.Background(), "MY_KEY")
	fmt.Println(err)
	fmt.Println(errors.Is(err, client.ErrTransient))
	st := srv.Stats()
	fmt.Println(st.Requests, "requests,", st.Faults[mockserver.Fault503], "faults")
	// Output:
	// secret_value "MY_KEY" at http://mock.invalid/graphql (after 3 attempts): HTTP 503 Service Unavailable
	// true
	// 3 requests, 3 faults
}
