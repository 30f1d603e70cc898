// Package ui holds the browser tests of Weir's web UI. Each test starts the real
// `weir standalone` binary on free ports with a fresh data directory, drives
// Debian's Chromium through chromedp against the UI it serves, and uses only what a
// user sees: the pages, and NATS to feed the source streams. Every console error or
// uncaught exception of the page fails the test, apart from the HTTP errors a test
// provokes on purpose (a 400 from a dry run of a bad spec, a 409 from deleting a
// module in use), which it names.
//
// Each test saves screenshots into $WEIR_UI_ARTIFACTS (default: a temporary
// directory of the test, named in the log). With WEIR_UI_DOCS_SCREENSHOT=path,
// TestJobLifecycle also writes the job page of its running multi-vertex job to
// path, which is how docs/images/job-page.png is made.
//
// `make e2e` runs this package with -p 1 after `make build examples`.
package ui
