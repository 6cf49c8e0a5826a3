package mockserver

import (
	"context"
	"fmt"
	"math"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// The limits a [Server] applies when the matching [Options] field is 0.
const (
	// DefaultMaxNameBytes is the longest secret name, in bytes.
	DefaultMaxNameBytes = 255

	// DefaultMaxValueBytes is the largest secret value, measured as its
	// compact JSON encoding.
	DefaultMaxValueBytes = 512 << 10

	// DefaultMaxDepth is how deeply an operation's selections may nest;
	// "{ secret_names }" is 1 deep. It leaves room for the usual
	// introspection query.
	DefaultMaxDepth = 15

	// DefaultMaxComplexity is the largest complexity, as gqlgen counts it
	// (one per field), of one operation.
	DefaultMaxComplexity = 200

	// DefaultMaxQueryTokens is the most GraphQL tokens a query may hold; the
	// parser stops there, before any validation work.
	DefaultMaxQueryTokens = 2000
)

// codeDepthLimit is the extensions.code of an operation nested too deeply,
// named like gqlgen's COMPLEXITY_LIMIT_EXCEEDED.
const codeDepthLimit = "DEPTH_LIMIT_EXCEEDED"

// limits are the bounds a Server puts on what one request may ask for.
type limits struct {
	nameBytes   int
	valueBytes  int
	depth       int
	complexity  int
	queryTokens int
}

// newLimits takes the limits from opts, with defaults for the fields left
// at 0. A negative limit is an error that names its field.
func newLimits(opts Options) (limits, error) {
	var l limits
	fields := []struct {
		name  string
		value int
		def   int
		dst   *int
	}{
		{"MaxNameBytes", opts.MaxNameBytes, DefaultMaxNameBytes, &l.nameBytes},
		{"MaxValueBytes", opts.MaxValueBytes, DefaultMaxValueBytes, &l.valueBytes},
		{"MaxDepth", opts.MaxDepth, DefaultMaxDepth, &l.depth},
		{"MaxComplexity", opts.MaxComplexity, DefaultMaxComplexity, &l.complexity},
		{"MaxQueryTokens", opts.MaxQueryTokens, DefaultMaxQueryTokens, &l.queryTokens},
	}

	for _, f := range fields {
		switch {
		case f.value < 0:
			return limits{}, fmt.Errorf("%s is negative", f.name)
		case f.value == 0:
			*f.dst = f.def
		default:
			*f.dst = f.value
		}
	}
	return l, nil
}

// checkName reports why name cannot name a secret on this server.
func (l limits) checkName(name string) error {
	return checkNameLen(name, l.nameBytes)
}

// checkValue reports a value, given as its compact JSON encoding, that is
// too large to store. It never quotes the value.
func (l limits) checkValue(value []byte) error {
	if len(value) > l.valueBytes {
		return fmt.Errorf("value is %d bytes long as compact JSON; at most %d are allowed", len(value), l.valueBytes)
	}
	return nil
}

// install puts the query limits on gqlgen's executor: the parser's token
// limit, the shape limit, then gqlgen's own complexity limit.
//
// gqlgen's complexity count walks each fragment once for every place it is
// spread, so a short document whose fragments each spread the next one
// twice would keep it busy for ever. The shape limit measures each fragment
// once and refuses such a document first, when it expands to more than
// expansionFactor times the complexity limit in fields; what it lets
// through, gqlgen counts quickly, and answers with its own exact message.
func (l limits) install(srv *handler.Server) {
	fields := math.MaxInt
	if l.complexity < math.MaxInt/expansionFactor {
		fields = l.complexity * expansionFactor
	}

	srv.SetParserTokenLimit(l.queryTokens)
	srv.SetValidationRulesFn(cappedRules)
	srv.Use(shapeLimit{depth: l.depth, fields: fields})
	srv.Use(extension.FixedComplexityLimit(l.complexity))
}

// maxValidationErrors is the most validation errors one answer lists. A
// short query can break a rule once for every pair of its fields, and
// without a cap its answer would run to megabytes.
const maxValidationErrors = 20

// cappedRules returns gqlparser's default validation rules, sharing a
// budget of maxValidationErrors errors for the one document they check.
// An error past the budget is never built; one last error says so.
func cappedRules() *rules.Rules {
	r := rules.NewDefaultRules()
	reported := 0 // validation runs on one goroutine

	for name, check := range r.GetInner() {
		r.ReplaceRule(name, func(observers *core.Events, addError core.AddErrFunc) {
			check(observers, func(opts ...core.ErrorOption) {
				reported++
				switch {
				case reported <= maxValidationErrors:
					addError(opts...)
				case reported == maxValidationErrors+1:
					addError(core.Message("too many validation errors; only the first %d are listed", maxValidationErrors))
				}
			})
		})
	}
	return r
}

// expansionFactor bounds, relative to the complexity limit, how many fields
// an operation may expand to before gqlgen is asked to count them.
const expansionFactor = 10

// shapeLimit is a gqlgen extension that refuses an operation whose
// selections nest deeper than depth, or that holds more than fields fields
// once every fragment spread is replaced by its fragment. It runs after
// validation, so every spread names a defined fragment and fragments do not
// form cycles.
type shapeLimit struct {
	depth  int
	fields int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = shapeLimit{}

// ExtensionName implements graphql.HandlerExtension.
func (shapeLimit) ExtensionName() string { return "ShapeLimit" }

// Validate implements graphql.HandlerExtension.
func (shapeLimit) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator: it
// answers an operation that is too deep with DEPTH_LIMIT_EXCEEDED, and one
// with too many fields with COMPLEXITY_LIMIT_EXCEEDED, as gqlgen would.
func (l shapeLimit) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil {
		return nil
	}

	w := shapeWalker{depthLimit: l.depth, sizeLimit: l.fields, fragments: make(map[string]shape)}
	got := w.walk(opCtx.Operation.SelectionSet, 0)

	var err *gqlerror.Error
	switch {
	case got.depth > l.depth:
		err = gqlerror.Errorf("operation is nested more than %d levels deep", l.depth)
		errcode.Set(err, codeDepthLimit)
	case got.size > l.fields:
		err = gqlerror.Errorf("operation has more than %d fields once its fragments are expanded, "+
			"far over the complexity limit", l.fields)
		errcode.Set(err, codeComplexityLimit)
	}
	return err
}

// codeComplexityLimit is gqlgen's extensions.code for too complex an
// operation.
const codeComplexityLimit = "COMPLEXITY_LIMIT_EXCEEDED"

// shape is how deep a selection set nests and how many fields it holds.
type shape struct {
	depth int
	size  int
}

// shapeWalker measures selection sets. It stops as soon as either limit is
// passed, and measures each fragment once, so that its work grows with the
// document's length, not with the number of paths through its fragments.
type shapeWalker struct {
	depthLimit int
	sizeLimit  int
	fragments  map[string]shape // by name, relative to where it is spread
	busy       map[string]bool  // fragments being measured
}

// walk measures set, whose fields sit at level+1. The size counts a
// __schema field but not what it selects, as gqlgen's count does.
func (w *shapeWalker) walk(set ast.SelectionSet, level int) shape {
	got := shape{depth: level}
	for _, sel := range set {
		if got.depth > w.depthLimit || got.size > w.sizeLimit {
			break
		}

		var sub shape
		switch s := sel.(type) {
		case *ast.Field:
			sub = w.walk(s.SelectionSet, level+1)
			sub.size++
			if s.Name == "__schema" {
				sub.size = 1
			}
		case *ast.InlineFragment:
			sub = w.walk(s.SelectionSet, level)
		case *ast.FragmentSpread:
			f := w.fragment(s)
			sub = shape{depth: level + f.depth, size: f.size}
		}
		got.depth = max(got.depth, sub.depth)
		got.size = min(got.size+sub.size, w.sizeLimit+1)
	}
	return got
}

// fragment measures the fragment a spread names, once. A cycle, which
// validation rejects before this runs, counts as empty.
func (w *shapeWalker) fragment(s *ast.FragmentSpread) shape {
	if s.Definition == nil {
		return shape{}
	}

	name := s.Definition.Name
	if f, ok := w.fragments[name]; ok {
		return f
	}
	if w.busy[name] {
		return shape{}
	}

	if w.busy == nil {
		w.busy = make(map[string]bool)
	}
	w.busy[name] = true
	f := w.walk(s.Definition.SelectionSet, 0)
	delete(w.busy, name)

	w.fragments[name] = f
	return f
}
