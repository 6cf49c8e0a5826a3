package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
)

// The flag package quotes the text it could not parse in its errors
// ("invalid boolean value \"...\" for -log", "flag provided but not defined:
// -tokenXYZ"), and that text may be a token pasted in the wrong place. So
// while parsing, every flag's Value is wrapped to remember which flag
// failed, and the error is then rewritten to name the flag, or the
// argument's position, without the text.

// quietValue wraps a flag's Value and records the flag's name when Set
// fails.
type quietValue struct {
	flag.Value
	name   string
	failed *string
}

func (v quietValue) Set(s string) error {
	err := v.Value.Set(s)
	if err != nil && *v.failed == "" {
		*v.failed = v.name
	}
	return err
}

// IsBoolFlag passes on the wrapped Value's answer, so that "--log" alone
// still means true.
func (v quietValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// parseQuietly parses args with fs, and returns an error that quotes no
// argument. It puts fs's own Values back before it returns, so that the
// usage printed after it reads as usual.
func parseQuietly(fs *flag.FlagSet, args []string) error {
	var failed string
	originals := map[string]flag.Value{}
	fs.VisitAll(func(f *flag.Flag) {
		originals[f.Name] = f.Value
		f.Value = quietValue{Value: f.Value, name: f.Name, failed: &failed}
	})
	err := fs.Parse(args)
	fs.VisitAll(func(f *flag.Flag) { f.Value = originals[f.Name] })

	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return describeFlagError(fs, args, err, failed)
}

// describeFlagError rewrites err, an error of fs.Parse(args), so that it
// names a known flag, or an unknown one by its position, and quotes
// nothing. failed is the flag whose value was refused, if any.
func describeFlagError(fs *flag.FlagSet, args []string, err error, failed string) error {
	const hint = " (run with -h for usage)"
	msg := err.Error()
	// The position, counted from 1, of the first argument fs did not take.
	next := len(args) - len(fs.Args()) + 1

	switch {
	case failed != "":
		if b, ok := fs.Lookup(failed).Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			return fmt.Errorf("--%s: invalid value; want true or false%s", failed, hint)
		}
		reason := "cannot be parsed"
		if strings.HasSuffix(msg, "value out of range") {
			reason = "is out of range"
		}
		return fmt.Errorf("--%s: invalid value: it %s%s", failed, reason, hint)
	case strings.HasPrefix(msg, "flag needs an argument"):
		// Only the last argument can lack its value, and it is a known flag.
		name := strings.TrimLeft(args[len(args)-1], "-")
		if fs.Lookup(name) != nil {
			return fmt.Errorf("--%s needs a value%s", name, hint)
		}
		return fmt.Errorf("argument %d needs a value%s", len(args), hint)
	case strings.HasPrefix(msg, "flag provided but not defined"):
		// fs took the unknown flag itself before refusing it.
		return fmt.Errorf("argument %d is not a known flag%s", next-1, hint)
	case strings.HasPrefix(msg, "bad flag syntax"):
		return fmt.Errorf("argument %d is not a well-formed flag%s", next, hint)
	default:
		return errors.New("the arguments cannot be parsed" + hint)
	}
}
