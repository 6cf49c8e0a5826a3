package mockserver

//go:generate go run ./internal/gengraph
