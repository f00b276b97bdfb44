//go:build tools

// Package tools pins the helm v3 CLI that the chart tests build and run
// (test/support/helm.ts): `go build -o DIR/helm helm.sh/helm/v3/cmd/helm`.
// The build tag keeps this file out of every ordinary build.
package tools

import (
	_ "helm.sh/helm/v3/cmd/helm"
)
