// skyload-deploy-check: offline checks of skyload's Kubernetes and compose deployments.
// deploy/validate/run builds and drives it; docs/deploy.md says what each check proves.
package main

import (
	"fmt"
	"os"
)

const usage = `usage: skyload-deploy-check COMMAND ARGS

  schemas DIR          write kubeconform JSON schemas (strict) for core/v1, apps/v1 and
                       batch/v1, generated from the OpenAPI v3 documents embedded in client-go
  k8s FILE...          decode every object of rendered manifests strictly with client-go's
                       scheme (unknown fields and wrong types are errors) and check skyload's
                       own rules (non-root, resources set, no credentials in args)
  shards FILE JOB      print, one JSON line per pod, the simulate arguments each index of the
                       Indexed Job JOB gets once Kubernetes expands $(VAR) references
  compose FILE         load a compose file with compose-go (validates against the compose
                       specification schema) and check skyload's own rules
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "schemas":
		if len(args) != 1 {
			fail(usage)
		}
		err = writeSchemas(args[0])
	case "k8s":
		if len(args) < 1 {
			fail(usage)
		}
		err = checkK8sFiles(args)
	case "shards":
		if len(args) != 2 {
			fail(usage)
		}
		err = printShards(args[0], args[1])
	case "compose":
		if len(args) != 1 {
			fail(usage)
		}
		err = checkCompose(args[0])
	default:
		fail(usage)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "skyload-deploy-check %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func fail(msg string) {
	fmt.Fprint(os.Stderr, msg)
	os.Exit(2)
}
