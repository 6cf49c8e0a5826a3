package secrets

import "context"

type secretsKey struct{}
type buildingKey struct{}

// WithSecrets returns a context that carries secrets, the counterpart of
// prefect.context.secrets: [Resolver.Get] finds them before asking any
// configuration or Cloud. They are layered over any the parent carries;
// the map is copied, so later changes to it are not seen.
func WithSecrets(ctx context.Context, secrets map[string]any) context.Context {
	parent, _ := ctx.Value(secretsKey{}).(map[string]any)
	return context.WithValue(ctx, secretsKey{}, mergeSecrets(parent, secrets))
}

// WithFlowBuilding marks a context as building a flow. Secrets are read at
// run time only, so [Resolver.Get] fails on such a context with
// [ErrFlowBuilding].
func WithFlowBuilding(ctx context.Context) context.Context {
	return context.WithValue(ctx, buildingKey{}, true)
}

func contextSecret(ctx context.Context, name string) (any, bool) {
	m, _ := ctx.Value(secretsKey{}).(map[string]any)
	v, ok := m[name]
	return v, ok
}

func isBuilding(ctx context.Context) bool {
	b, _ := ctx.Value(buildingKey{}).(bool)
	return b
}
