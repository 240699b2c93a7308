// Package config loads an openimbot YAML configuration file into typed
// values.
//
// Loading is strict: an unknown key, a value of the wrong type or an invalid
// value is an error that names the file, line and column (file:line:col).
// Every error found is reported, not only the first; the returned error is an
// Errors list whose items are *Error values usable with errors.As, and each
// carries one of the sentinel kinds (ErrSyntax, ErrUnknownKey, ErrType,
// ErrValue, ErrEnv) for errors.Is.
//
// Scalar values may refer to environment variables, so that secrets stay out
// of the file: ${NAME} is the value of NAME (an error naming NAME and the
// line when it is not set) and ${NAME:-default} is the value of NAME, or
// default when NAME is unset or empty. $$ is a literal $. Expansion happens
// inside scalar values only, never in keys, and values are never echoed in
// error messages.
//
// Plugin configuration is kept as a Node, a raw YAML node with its position,
// that a plugin decodes into its own struct with Node.Decode under the same
// strict rules, without importing a YAML library.
//
// This is the only package of the module that imports the YAML library.
// A Config is a plain value: safe to read from many goroutines as long as
// nobody writes it.
package config
