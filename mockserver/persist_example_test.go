package mockserver_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

// With a data file, the secrets outlive the server: a new server on the
// same file starts where the last one stopped.
func ExampleOptions_dataFile() {
	dir, err := os.MkdirTemp("", "mockserver-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "secrets.data")

	first, err := mockserver.New(mockserver.Options{DataFile: path})
	if err != nil {
		panic(err)
	}
	first.SetSecret(mockserver.DefaultTenant, "MY_KEY", json.RawMessage(`"kept"`))
	if err := first.Close(); err != nil {
		panic(err)
	}

	second, err := mockserver.New(mockserver.Options{DataFile: path})
	if err != nil {
		panic(err)
	}
	defer second.Close()

	value, found := second.Secret(mockserver.DefaultTenant, "MY_KEY")
	fmt.Println(string(value), found)
	// Output: "kept" true
}
