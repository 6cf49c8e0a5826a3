//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package mockserver

import "os"

// lockFile does nothing here.
//
// Note: on this platform two servers given the same data file are not
// stopped from overwriting each other's changes; give each its own file.
func lockFile(*os.File) error { return nil }

// syncDir does nothing here: the platform has no portable way to sync a
// directory, and os.Rename replaces the file in one step.
func syncDir(string) error { return nil }
