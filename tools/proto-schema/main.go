// Command proto-schema writes src/client/proto/schema.generated.ts: for every built-in Kubernetes kind, the
// protobuf field numbers of its Go type and the JSON names and shapes the API server would give them, so that
// the TypeScript decoder can turn a protobuf response into the JSON the server would have sent.
//
// The table is built by reflection over the Go API types' struct tags (`protobuf:"..."` and `json:"..."`).
//
// Usage: go run . <output.ts>
package main

import (
	"fmt"
	"os"
	"runtime/debug"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: proto-schema <output.ts>")
		os.Exit(2)
	}
	s, err := Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, "proto-schema:", err)
		os.Exit(1)
	}
	out := s.Render(apiVersion())
	if err := os.WriteFile(os.Args[1], []byte(out), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "proto-schema:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "proto-schema: %d kinds, %d messages, %d kinds left out, %d bytes\n",
		len(s.Kinds), len(s.Messages), len(s.LeftOut), len(out))
}

// apiVersion is the version of k8s.io/api the table was built from.
func apiVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "k8s.io/api" {
				return d.Version
			}
		}
	}
	return "unknown"
}
