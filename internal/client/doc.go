// Package client is a typed Go client for Weir's REST API (DESIGN.md §6): modules,
// jobs, their exceptions, checkpoints and savepoints (trigger, stop with one, rescale
// through one, list, inspect, delete), and the health check. The `weir` command line
// tool is built on it; tests and scripts written in Go may use it too.
//
// A Client holds nothing but the base URL and an *http.Client, so it is safe for
// concurrent use by any number of goroutines. Every method takes a context that bounds
// the whole exchange, including streaming an upload's body.
//
// Errors come in three kinds, told apart with errors.As and errors.Is:
//
//   - *APIError: the server answered with a non-2xx status. When the body is Weir's
//     error envelope, {"error", "field", "line", "column"}, its parts are kept, and
//     Error reads like `pipeline[2].map.function: unknown key "fnction" (line 12,
//     column 7)`; any other body still yields an APIError that names the status.
//   - a transport failure (refused connection, DNS, TLS): wrapped as
//     `cannot reach Weir at <base URL>: ...`, with the cause still reachable.
//   - a failure on the caller's side: the context ending (wrapping ctx.Err()) or an
//     upload's reader failing (wrapping the reader's error).
//
// Every result type that mirrors a whole response body carries the body as the server
// sent it in a Raw field, so a caller can show or forward the exact JSON, fields this
// package does not know yet included.
package client
