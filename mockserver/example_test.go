package mockserver_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

// A client under test reaches the mock through Transport, with no socket.
func ExampleServer_Transport() {
	s, err := mockserver.New(mockserver.Options{Tokens: map[string]string{"my-token": mockserver.DefaultTenant}})
	if err != nil {
		panic(err)
	}
	s.SetSecret(mockserver.DefaultTenant, "MY_KEY", json.RawMessage(`"s3cr3t"`))

	body := `{"query": "query($name: String!) { secret_value(name: $name) }", "variables": "{\"name\": \"MY_KEY\"}"}`
	req, _ := http.NewRequest(http.MethodPost, "https://api.prefect.io/graphql", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer my-token")
	req.Header.Set("Content-Type", "application/json")

	client := &http.Client{Transport: s.Transport()}
	resp, err := client.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)

	fmt.Println(resp.StatusCode, string(answer))
	// Output: 200 {"data":{"secret_value":"s3cr3t"}}
}
