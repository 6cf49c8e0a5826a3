// Command gengraph runs gqlgen over schema.graphql with one addition: the
// deprecated camelCase fields that Prefect Core 0.7 to 0.10 sends (secretValue,
// setSecret) would get the same Go resolver names as their snake_case twins
// (secret_value, set_secret), so their resolvers are renamed with a "Legacy"
// prefix. Run it through `go generate ./...`.
package main

import (
	"fmt"
	"os"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
)

func main() {
	cfg, err := config.LoadConfig("gqlgen.yml")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gengraph:", err)
		os.Exit(1)
	}
	if err := api.Generate(cfg, api.PrependPlugin(legacyNames{})); err != nil {
		fmt.Fprintln(os.Stderr, "gengraph:", err)
		os.Exit(1)
	}
}

// legacyNames renames the resolver of a deprecated field whose Go name
// collides with another field of the same object.
type legacyNames struct{}

func (legacyNames) Name() string { return "legacynames" }

func (legacyNames) GenerateCode(data *codegen.Data) error {
	for _, obj := range data.Objects {
		seen := map[string]bool{}
		for _, f := range obj.Fields {
			if f.FieldDefinition.Directives.ForName("deprecated") == nil {
				seen[f.GoFieldName] = true
			}
		}
		for _, f := range obj.Fields {
			if f.FieldDefinition.Directives.ForName("deprecated") != nil && seen[f.GoFieldName] {
				f.GoFieldName = "Legacy" + f.GoFieldName
			}
		}
	}
	return nil
}
