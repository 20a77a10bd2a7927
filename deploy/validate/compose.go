// The compose file loaded as Docker Compose loads it (compose-go validates it against the
// compose specification's JSON schema), plus the rules docs/deploy.md states.
package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// Services the whole loop needs; each server must report healthy before its users start.
var requiredServices = []string{"kafka", "tile38", "timescaledb", "ingest", "run"}
var servers = []string{"kafka", "tile38", "timescaledb"}

func checkCompose(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	opts, err := cli.NewProjectOptions([]string{abs}, cli.WithName("skyload"),
		cli.WithWorkingDirectory(filepath.Dir(abs)), cli.WithEnv([]string{}),
		cli.WithProfiles([]string{"*"}))
	if err != nil {
		return err
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	problems := composeRules(project)
	names := make([]string, 0, len(project.Services))
	for name := range project.Services {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Printf("%s: valid compose file, services %s\n", path, strings.Join(names, " "))
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

func composeRules(p *types.Project) []string {
	var problems []string
	for _, name := range requiredServices {
		if _, ok := p.Services[name]; !ok {
			problems = append(problems, "no service "+name)
		}
	}
	for _, name := range servers {
		s, ok := p.Services[name]
		if ok && (s.HealthCheck == nil || len(s.HealthCheck.Test) == 0) {
			problems = append(problems, "service "+name+" has no healthcheck")
		}
	}
	for name, s := range p.Services {
		if s.Build == nil && (s.Image == "" || strings.HasSuffix(s.Image, ":latest") ||
			!strings.Contains(s.Image, ":")) {
			problems = append(problems, "service "+name+": image "+s.Image+" is not pinned to a tag")
		}
		for dep, d := range s.DependsOn {
			if isServer(dep) && d.Condition != types.ServiceConditionHealthy {
				problems = append(problems, "service "+name+" must wait for "+dep+" to be healthy")
			}
		}
		for _, a := range append(append([]string{}, s.Entrypoint...), s.Command...) {
			if credentialArg.MatchString(a) {
				problems = append(problems, "service "+name+": credential in argv ("+a+")")
			}
		}
	}
	return problems
}

func isServer(name string) bool {
	for _, s := range servers {
		if s == name {
			return true
		}
	}
	return false
}
