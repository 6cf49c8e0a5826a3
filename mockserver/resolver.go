package mockserver

import (
	"context"

	"github.com/prefect-go/cloudsecrets/mockserver/internal/graph"
)

// resolver answers the schema's fields from a store, acting only on the
// tenant that authentication put into the request context.
type resolver struct {
	store  *store
	limits limits
}

var (
	_ graph.ResolverRoot     = resolver{}
	_ graph.QueryResolver    = queryResolver{}
	_ graph.MutationResolver = mutationResolver{}
)

// Query implements graph.ResolverRoot.
func (r resolver) Query() graph.QueryResolver { return queryResolver(r) }

// Mutation implements graph.ResolverRoot.
func (r resolver) Mutation() graph.MutationResolver { return mutationResolver(r) }

type queryResolver resolver

// SecretValue answers secret_value.
func (q queryResolver) SecretValue(ctx context.Context, name string) (graph.JSON, error) {
	tenant, err := requestTenant(ctx)
	if err != nil {
		return nil, err
	}
	if err := q.limits.checkName(name); err != nil {
		return nil, resolverError(codeBadUserInput, err.Error())
	}

	value, ok := q.store.get(tenant, name)
	if !ok {
		return nil, resolverError(codeNotFound, msgNotFound)
	}
	return graph.JSON(value), nil
}

// LegacySecretValue answers the deprecated secretValue, like secret_value.
func (q queryResolver) LegacySecretValue(ctx context.Context, name string) (graph.JSON, error) {
	return q.SecretValue(ctx, name)
}

// SecretNames answers secret_names.
func (q queryResolver) SecretNames(ctx context.Context) ([]string, error) {
	tenant, err := requestTenant(ctx)
	if err != nil {
		return nil, err
	}
	return q.store.names(tenant), nil
}

type mutationResolver resolver

// SetSecret answers set_secret. An absent value is an error; a null value is
// stored as null.
func (m mutationResolver) SetSecret(ctx context.Context, input graph.SecretInput) (*graph.SuccessPayload, error) {
	tenant, err := requestTenant(ctx)
	if err != nil {
		return nil, err
	}
	if err := m.limits.checkName(input.Name); err != nil {
		return nil, resolverError(codeBadUserInput, err.Error())
	}

	value, ok := input.Value.ValueOK()
	if !ok {
		return nil, resolverError(codeBadUserInput, "value is required")
	}
	if len(value) == 0 {
		value = graph.JSON("null")
	}
	if err := m.limits.checkValue(value); err != nil {
		return nil, resolverError(codeBadUserInput, err.Error())
	}

	if err := m.store.set(tenant, input.Name, value); err != nil {
		return nil, notSaved()
	}
	return succeeded(), nil
}

// LegacySetSecret answers the deprecated setSecret, like set_secret.
func (m mutationResolver) LegacySetSecret(ctx context.Context, input graph.SecretInput) (*graph.SuccessPayload, error) {
	return m.SetSecret(ctx, input)
}

// DeleteSecret answers delete_secret. Deleting a missing secret is an error.
func (m mutationResolver) DeleteSecret(ctx context.Context, input graph.DeleteSecretInput) (*graph.SuccessPayload, error) {
	tenant, err := requestTenant(ctx)
	if err != nil {
		return nil, err
	}
	if err := m.limits.checkName(input.Name); err != nil {
		return nil, resolverError(codeBadUserInput, err.Error())
	}

	found, err := m.store.remove(tenant, input.Name)
	if err != nil {
		return nil, notSaved()
	}
	if !found {
		return nil, resolverError(codeNotFound, msgNotFound)
	}
	return succeeded(), nil
}

// requestTenant returns the request's tenant. Every request reaches gqlgen
// through authentication, so a missing tenant is a bug in this package; it
// fails closed.
func requestTenant(ctx context.Context) (string, error) {
	tenant, ok := tenantFrom(ctx)
	if !ok {
		return "", resolverError(codeUnauthenticated, msgUnauthenticated)
	}
	return tenant, nil
}

func succeeded() *graph.SuccessPayload {
	ok := true
	return &graph.SuccessPayload{Success: &ok}
}
