// Package udfdev holds the acceptance test of the UDF author's path: for each
// language, the example of the SDK's README, pasted into a project that `weir udf
// new` made, builds with the project's Makefile and gives the expected outputs
// under `weir udf test`. It runs the real weir binary (WEIR_TEST_BIN, built by
// `make test`) and the real toolchains (`make deps`).
package udfdev
