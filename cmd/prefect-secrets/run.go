package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/prefect-go/cloudsecrets/client"
	"github.com/prefect-go/cloudsecrets/secrets"
)

// Exit codes.
const (
	exitOK           = 0
	exitNotFound     = 1
	exitUsage        = 2
	exitUnauthorized = 3
	exitFailure      = 4
)

const usage = `usage: prefect-secrets [flags] COMMAND [ARGS]

Commands:
  get NAME          print a secret (a string raw, anything else as JSON)
  set NAME [VALUE]  store a secret in Cloud; VALUE "-" or none reads stdin
  delete NAME       remove a secret from Cloud
  list              list secret names
  exists NAME       exit 0 when the secret exists, 1 when not

Flags (before or after the command):
  --api URL      Prefect Cloud API URL (PREFECT__CLOUD__API)
  --token T      API token (PREFECT__CLOUD__API_KEY or PREFECT__CLOUD__AUTH_TOKEN)
  --local        use local secrets only (PREFECT__CLOUD__USE_LOCAL_SECRETS=true)
  --cloud        ask Prefect Cloud (PREFECT__CLOUD__USE_LOCAL_SECRETS=false)
  --json         get: always print JSON; set: parse VALUE as JSON
  --mock FILE    serve FILE's secrets from a built-in mock API on loopback and use it
  --debug        log each API request (never tokens or values) to stderr

Exit codes: 0 found or done, 1 not found, 2 usage or configuration error,
3 authentication error, 4 any other failure.
`

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// options are the parsed flags.
type options struct {
	api, token, mock string
	local, cloud     bool
	asJSON, debug    bool
}

// env is what run needs from the process: arguments aside, the environment,
// standard streams.
type env struct {
	environ []string
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
}

// run is the whole command; main only wires it to the process.
func run(ctx context.Context, args []string, e env) int {
	opts, rest, err := parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(e.stdout, usage)
		return exitOK
	}
	if err == nil {
		err = dispatch(ctx, opts, rest, e)
	}
	if err == nil {
		return exitOK
	}

	code := exitCode(err)
	if code != exitNotFound || !isQuietNotFound(rest) {
		fmt.Fprintln(e.stderr, "prefect-secrets:", oneLine(err))
	}
	if code == exitUsage {
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(e.stderr, "Run 'prefect-secrets --help' for usage.")
		}
	}
	return code
}

// isQuietNotFound: `exists` answers with its exit code alone.
func isQuietNotFound(rest []string) bool { return len(rest) > 0 && rest[0] == "exists" }

// parseArgs reads flags anywhere on the line and returns the positional
// words in order.
func parseArgs(args []string) (options, []string, error) {
	var o options
	fs := flag.NewFlagSet("prefect-secrets", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.api, "api", "", "")
	fs.StringVar(&o.token, "token", "", "")
	fs.StringVar(&o.mock, "mock", "", "")
	fs.BoolVar(&o.local, "local", false, "")
	fs.BoolVar(&o.cloud, "cloud", false, "")
	fs.BoolVar(&o.asJSON, "json", false, "")
	fs.BoolVar(&o.debug, "debug", false, "")

	// Everything after the first "--" is positional, even words that start
	// with "-": a value such as "-s3cr3t" must never be taken for a flag.
	var after []string
	for i, a := range args {
		if a == "--" {
			args, after = args[:i], args[i+1:]
			break
		}
	}

	var rest []string
	total := len(args)
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return o, nil, err
			}
			return o, nil, &usageError{msg: flagProblem(args, total-len(args), fs)}
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
	rest = append(rest, after...)

	if o.local && o.cloud {
		return o, nil, &usageError{msg: "--local and --cloud contradict each other"}
	}
	if o.mock != "" && (o.local || o.api != "" || o.token != "") {
		return o, nil, &usageError{msg: "--mock chooses the API and token itself; drop --local, --api and --token"}
	}
	if len(rest) == 0 {
		return o, nil, &usageError{msg: "no command given"}
	}
	return o, rest, nil
}

// flagProblem says which flag the flag package refused, without quoting
// what the user typed: a mistyped flag or a value that starts with "-" can
// be a secret.
// args are what was left to parse, skipped the words already taken.
func flagProblem(args []string, skipped int, fs *flag.FlagSet) string {
	for i, a := range args {
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if fs.Lookup(name) == nil {
			return fmt.Sprintf("argument %d is not a known flag (a value that starts with \"-\" goes after \"--\")", skipped+i+1)
		}
	}
	return "a flag has a missing or invalid value; run with --help for usage"
}

// dispatch runs one command.
func dispatch(ctx context.Context, o options, rest []string, e env) error {
	cmd, words := rest[0], rest[1:]
	want := map[string][2]int{ // command: min and max positional words
		"get": {1, 1}, "set": {1, 2}, "delete": {1, 1}, "list": {0, 0}, "exists": {1, 1},
	}
	n, ok := want[cmd]
	if !ok {
		return &usageError{msg: fmt.Sprintf("unknown command %q", cmd)}
	}
	if len(words) < n[0] || len(words) > n[1] {
		return &usageError{msg: fmt.Sprintf("%s takes %s", cmd, argWords(cmd))}
	}

	cfg, stop, err := configure(ctx, o, e)
	if err != nil {
		return err
	}
	defer stop()

	var clientOpts []client.Option
	if o.debug {
		h := slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug})
		clientOpts = append(clientOpts, client.WithLogger(slog.New(h)))
	}
	r, err := secrets.NewResolver(cfg, secrets.WithClientOptions(clientOpts...))
	if err != nil {
		return err
	}

	switch cmd {
	case "get":
		return cmdGet(ctx, r, words[0], o.asJSON, e.stdout)
	case "exists":
		return cmdExists(ctx, r, words[0])
	case "list":
		return cmdList(ctx, r, e.stdout)
	case "set":
		return cmdSet(ctx, r, words, o.asJSON, e.stdin)
	default:
		return cmdDelete(ctx, r, words[0])
	}
}

func argWords(cmd string) string {
	switch cmd {
	case "set":
		return "NAME and, optionally, VALUE"
	case "list":
		return "no arguments"
	}
	return "exactly one NAME"
}

// configure loads the configuration and applies the flags over it; with
// --mock it also starts the mock API, which stop shuts down.
func configure(ctx context.Context, o options, e env) (secrets.Config, func(), error) {
	cfg, err := secrets.LoadConfigEnv(e.environ)
	if err != nil {
		return cfg, nil, err
	}
	stop := func() {}
	if o.mock != "" {
		url, token, shutdown, err := startMock(o.mock)
		if err != nil {
			return cfg, nil, err
		}
		stop = func() { shutdown(ctx) }
		cfg.API, cfg.GraphQL, cfg.APIKey, cfg.UseLocalSecrets = url, "", token, false
	}
	if o.api != "" {
		cfg.API, cfg.GraphQL = o.api, ""
	}
	if o.token != "" {
		cfg.APIKey = o.token
	}
	if o.local {
		cfg.UseLocalSecrets = true
	}
	if o.cloud {
		cfg.UseLocalSecrets = false
	}
	return cfg, stop, nil
}

func cmdGet(ctx context.Context, r *secrets.Resolver, name string, asJSON bool, out io.Writer) error {
	v, err := r.Get(ctx, name)
	if err != nil {
		return err
	}
	if s, ok := v.(string); ok && !asJSON {
		_, err = fmt.Fprintln(out, s)
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("secret %q cannot be printed as JSON", name)
	}
	_, err = out.Write(buf.Bytes())
	return err
}

func cmdExists(ctx context.Context, r *secrets.Resolver, name string) error {
	ok, err := r.Exists(ctx, name)
	if err != nil {
		return err
	}
	if !ok {
		return &secrets.NotFoundError{Name: name, Local: r.Config().UseLocalSecrets}
	}
	return nil
}

func cmdList(ctx context.Context, r *secrets.Resolver, out io.Writer) error {
	var names []string
	if r.Config().UseLocalSecrets {
		for n := range r.Config().Secrets {
			names = append(names, n)
		}
		sort.Strings(names)
	} else {
		cloud, err := r.Cloud()
		if err != nil {
			return err
		}
		if names, err = cloud.SecretNames(ctx); err != nil {
			return err
		}
	}
	w := bufio.NewWriter(out)
	for _, n := range names {
		if strings.IndexFunc(n, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
			n = strconv.Quote(n) // one name, one line, no terminal escapes
		}
		fmt.Fprintln(w, n)
	}
	return w.Flush()
}

// writer is the part of *client.Client that changes secrets.
type writer interface {
	SetSecret(ctx context.Context, name string, value json.RawMessage) error
	DeleteSecret(ctx context.Context, name string) error
}

func cloudWriter(r *secrets.Resolver, cmd string) (writer, error) {
	if r.Config().UseLocalSecrets {
		return nil, &usageError{msg: cmd + " writes to Prefect Cloud: use --cloud, or set " +
			secrets.EnvUseLocalSecrets + "=false"}
	}
	cloud, err := r.Cloud()
	if err != nil {
		return nil, err
	}
	w, ok := cloud.(writer)
	if !ok {
		return nil, fmt.Errorf("the Cloud client cannot %s secrets", cmd)
	}
	return w, nil
}

func cmdSet(ctx context.Context, r *secrets.Resolver, words []string, asJSON bool, stdin io.Reader) error {
	name := words[0]
	if err := secrets.ValidateName(name); err != nil {
		return err
	}
	value, err := readValue(words, stdin)
	if err != nil {
		return err
	}

	var raw json.RawMessage
	if asJSON {
		if !json.Valid([]byte(value)) {
			return &usageError{msg: fmt.Sprintf("--json: the value for %q is not valid JSON", name)}
		}
		raw = json.RawMessage(value)
	} else if raw, err = json.Marshal(value); err != nil {
		return err
	}

	w, err := cloudWriter(r, "set")
	if err != nil {
		return err
	}
	return w.SetSecret(ctx, name, raw)
}

// maxStdinValue bounds a value read from stdin.
const maxStdinValue = 16 << 20

// readValue takes VALUE from the command line, or from stdin when it is "-"
// or absent (keeping it out of the process list); one trailing newline is
// dropped.
func readValue(words []string, stdin io.Reader) (string, error) {
	if len(words) == 2 && words[1] != "-" {
		return words[1], nil
	}
	data, err := io.ReadAll(io.LimitReader(stdin, maxStdinValue+1))
	if err != nil {
		return "", fmt.Errorf("reading the value from stdin: %w", err)
	}
	if len(data) > maxStdinValue {
		return "", &usageError{msg: fmt.Sprintf("the value on stdin is larger than %d MiB; nothing was stored", maxStdinValue>>20)}
	}
	s := strings.TrimSuffix(string(data), "\n")
	return strings.TrimSuffix(s, "\r"), nil
}

func cmdDelete(ctx context.Context, r *secrets.Resolver, name string) error {
	if err := secrets.ValidateName(name); err != nil {
		return err
	}
	w, err := cloudWriter(r, "delete")
	if err != nil {
		return err
	}
	err = w.DeleteSecret(ctx, name)
	if errors.Is(err, secrets.ErrNotFound) {
		return &secrets.NotFoundError{Name: name, URL: endpointOf(r), Err: err}
	}
	return err
}

// endpointOf names the Cloud endpoint for messages.
func endpointOf(r *secrets.Resolver) string {
	if c, err := r.Cloud(); err == nil {
		if e, ok := c.(interface{ Endpoint() string }); ok {
			return e.Endpoint()
		}
	}
	return "Cloud"
}

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	var ue *usageError
	var ce *secrets.ConfigError
	switch {
	case errors.As(err, &ue), errors.As(err, &ce), errors.Is(err, secrets.ErrInvalidName):
		return exitUsage
	case errors.Is(err, client.ErrUnauthenticated):
		return exitUnauthorized
	case errors.Is(err, secrets.ErrNotFound):
		return exitNotFound
	}
	return exitFailure
}

// oneLine keeps an error message on one line of printable text.
func oneLine(err error) string {
	clean := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, err.Error())
	return strings.Join(strings.Fields(clean), " ")
}
