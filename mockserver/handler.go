package mockserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/prefect-go/cloudsecrets/mockserver/internal/graph"
)

// newHandler builds the HTTP API around the gqlgen executor. GraphQL is
// served on the API root, on the path Prefect Core 0.15 posts to, and on the
// one Prefect Core 0.7 posts to.
func (s *Server) newHandler() http.Handler {
	gql := s.newGraphQL()
	mux := http.NewServeMux()

	for _, path := range []string{"/{$}", "/graphql", "/graphql/alpha"} {
		mux.Handle("POST "+path, s.graphQLEndpoint(gql))
		mux.Handle(path, methodNotAllowed(http.MethodPost))
	}
	mux.HandleFunc("GET /healthz", healthz)
	mux.Handle("/healthz", methodNotAllowed("GET, HEAD"))
	s.handleAdmin(mux)
	mux.HandleFunc("/", notFound)

	return s.logRequests(withOriginCheck(mux))
}

// newGraphQL returns gqlgen's executor for the schema, taking JSON POSTs only.
func (s *Server) newGraphQL() *handler.Server {
	schema := graph.NewExecutableSchema(graph.Config{Resolvers: resolver{store: s.store, limits: s.limits}})

	srv := handler.New(schema)
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](256))
	srv.Use(extension.Introspection{})
	s.limits.install(srv)
	srv.AroundOperations(recordOperation)
	srv.SetRecoverFunc(s.recoverPanic)
	return srv
}

// graphQLEndpoint counts a GraphQL request, authenticates it, checks that
// it declares a JSON body, and only then lets the fault plan or the
// request's [FaultHeader] act on it, so that no one without a token can ask
// for a fault. Then it hands the request to gql with the tenant in its
// context.
func (s *Server) graphQLEndpoint(gql http.Handler) http.Handler {
	answer := s.withFaults(graphQLAnswer(gql, s.maxBody))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.counters.requests.Add(1)

		tenant, err := s.authenticate(r)
		if err != nil {
			writeError(w, http.StatusOK, codeUnauthenticated, err.Error(), true)
			return
		}
		noteTenant(r.Context(), tenant)

		if !checkJSONContentType(w, r) {
			return
		}

		answer.ServeHTTP(w, r.WithContext(withTenant(r.Context(), tenant)))
	})
}

// graphQLAnswer checks an authenticated request's body and hands it to gql.
func graphQLAnswer(gql http.Handler, maxBody int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(w, r, maxBody)
		if err == nil {
			body, err = normalizeBody(body)
		}
		if err != nil {
			var reqErr *requestError
			if !errors.As(err, &reqErr) {
				reqErr = badRequest("request body is not a GraphQL request")
			}
			writeError(w, reqErr.status, reqErr.code, reqErr.msg, false)
			return
		}

		// normalizeBody re-encoded the body, so its length changed.
		r.Header = r.Header.Clone()
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		r.ContentLength = int64(len(body))
		r.Body = io.NopCloser(bytes.NewReader(body))
		gql.ServeHTTP(w, r)
	})
}

// recoverPanic turns a panic in a resolver into a GraphQL error and logs it.
// The log line names the panic value's type and the field being resolved,
// never the value itself, which might hold a secret; nothing of the panic
// is sent.
func (s *Server) recoverPanic(ctx context.Context, v any) error {
	path := ""
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		path = fc.Path().String()
	}
	s.logger.ErrorContext(ctx, "resolver panic", "panic_type", fmt.Sprintf("%T", v), "path", path)
	return resolverError(codeInternal, "internal server error")
}

// recordOperation notes the operation's name and root fields for the request
// log line.
func recordOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if op := graphql.GetOperationContext(ctx).Operation; op != nil {
		fields := make([]string, 0, len(op.SelectionSet))
		for _, sel := range op.SelectionSet {
			if f, ok := sel.(*ast.Field); ok {
				fields = append(fields, f.Name)
			}
		}
		noteOperation(ctx, op.Name, fields)
	}
	return next(ctx)
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
}

// methodNotAllowed answers 405 for a path that takes only the allow methods.
func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		msg := fmt.Sprintf("method %s is not allowed here; use %s", r.Method, allow)
		writeError(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, msg, false)
	})
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusNotFound, codeNotFound, "no such path", false)
}
