//go:build long

package integration

import "testing"

// TestFaultPropagationLong is TestFaultPropagationThreeProcesses with the
// issue's 1,000 changes and 100 cuts: go test -tags long -run Long
// ./integration (make test-long). A build tag rather than a skip, so that
// make test has no test that skips.
func TestFaultPropagationLong(t *testing.T) { runPropagation(t, 1000, 100) }
