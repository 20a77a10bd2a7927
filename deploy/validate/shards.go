// What each pod of an Indexed Job runs: the job controller's JOB_COMPLETION_INDEX, the
// container's env (values, ConfigMap keys, the index annotation) and Kubernetes' $(VAR)
// expansion of command and args, applied as the kubelet does.
package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

const indexAnnotation = "metadata.annotations['batch.kubernetes.io/job-completion-index']"

type podArgs struct {
	Index int      `json:"index"`
	Argv  []string `json:"argv"`
}

func printShards(path, jobName string) error {
	objs, err := readObjects(path)
	if err != nil {
		return err
	}
	configMaps := map[string]map[string]string{}
	var job *batchv1.Job
	for _, o := range objs {
		switch v := o.obj.(type) {
		case *corev1.ConfigMap:
			configMaps[v.Name] = v.Data
		case *batchv1.Job:
			if v.Name == jobName || strings.HasSuffix(v.Name, "-"+jobName) {
				job = v
			}
		}
	}
	if job == nil {
		return fmt.Errorf("%s: no Job named %s", path, jobName)
	}
	if job.Spec.CompletionMode == nil || *job.Spec.CompletionMode != batchv1.IndexedCompletion {
		return fmt.Errorf("%s: Job %s is not an Indexed Job", path, job.Name)
	}
	if job.Spec.Completions == nil || *job.Spec.Completions < 1 {
		return fmt.Errorf("%s: Job %s has no completions", path, job.Name)
	}
	c := job.Spec.Template.Spec.Containers[0]
	for i := 0; i < int(*job.Spec.Completions); i++ {
		env, err := podEnv(c, i, configMaps)
		if err != nil {
			return fmt.Errorf("%s: Job %s: %w", path, job.Name, err)
		}
		argv := make([]string, 0, len(c.Command)+len(c.Args))
		for _, a := range append(append([]string{}, c.Command...), c.Args...) {
			argv = append(argv, expand(a, env))
		}
		line, _ := json.Marshal(podArgs{Index: i, Argv: argv})
		fmt.Println(string(line))
	}
	return nil
}

// podEnv: the environment of the container in the pod with completion index i.
func podEnv(c corev1.Container, i int, configMaps map[string]map[string]string) (map[string]string, error) {
	index := strconv.Itoa(i)
	env := map[string]string{"JOB_COMPLETION_INDEX": index}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef != nil {
			for k, v := range configMaps[from.ConfigMapRef.Name] {
				env[from.Prefix+k] = v
			}
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = expand(e.Value, env)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == indexAnnotation:
			env[e.Name] = index
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			v, ok := configMaps[ref.Name][ref.Key]
			if !ok && (ref.Optional == nil || !*ref.Optional) {
				return nil, fmt.Errorf("env %s: ConfigMap %s has no key %s", e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = v
		default:
			env[e.Name] = "<from " + e.Name + ">" // Secrets, other fields: known only in the cluster
		}
	}
	return env, nil
}

// expand applies Kubernetes' rules: $(NAME) becomes the variable when it is defined and
// stays as written when not; $$ is a literal $.
func expand(s string, env map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := env[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
