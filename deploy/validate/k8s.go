// Strict decoding of rendered Kubernetes manifests with client-go's scheme (the types of
// the Kubernetes release client-go tracks) plus the rules skyload's deployments promise.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	kyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// Custom resources of operators the deployments reference (Strimzi); client-go has no
// types for them, so they are checked only for apiVersion/kind/name.
var knownCustomGroups = map[string]bool{"kafka.strimzi.io": true}

// A credential in argv shows in `ps` and in the pod spec: it belongs in a Secret.
var credentialArg = regexp.MustCompile(`(?i)(password|passwd|secret|sasl\.oauthbearer\.client\.secret|ssl\.key\.password)=`)

type object struct {
	source string
	meta   metav1.TypeMeta
	name   string
	obj    runtime.Object // nil for custom resources
}

func (o object) String() string {
	return fmt.Sprintf("%s: %s/%s", o.source, o.meta.Kind, o.name)
}

// readObjects splits a multi-document YAML file and decodes each document strictly.
func readObjects(path string) ([]object, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	codec := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true})
	reader := kyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []object
	for n := 1; ; n++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", path, n, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 || string(bytes.TrimSpace(doc)) == "---" {
			continue
		}
		o, err := decodeObject(codec, doc, fmt.Sprintf("%s: document %d", path, n))
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	return objs, nil
}

func decodeObject(codec runtime.Decoder, doc []byte, source string) (object, error) {
	var head struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return object{}, fmt.Errorf("%s: %w", source, err)
	}
	o := object{source: source, meta: head.TypeMeta, name: head.Metadata.Name}
	if o.name == "" {
		return o, fmt.Errorf("%s: %s has no metadata.name", source, head.Kind)
	}
	gvk := head.GroupVersionKind()
	if !scheme.Scheme.Recognizes(gvk) {
		if knownCustomGroups[gvk.Group] {
			return o, nil
		}
		return o, fmt.Errorf("%s: unknown apiVersion/kind %s %s", source, head.APIVersion, head.Kind)
	}
	obj, _, err := codec.Decode(doc, nil, nil)
	if err != nil {
		return o, fmt.Errorf("%s: %v", o, err)
	}
	o.obj = obj
	return o, nil
}

func checkK8sFiles(paths []string) error {
	var problems []string
	for _, path := range paths {
		objs, err := readObjects(path)
		if err != nil {
			return err
		}
		counts := map[string]int{}
		for _, o := range objs {
			counts[o.meta.Kind]++
			if spec := podSpecOf(o.obj); spec != nil {
				problems = append(problems, checkPodSpec(o.String(), spec)...)
			}
		}
		fmt.Printf("%s: %d objects decoded strictly %v\n", path, len(objs), counts)
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// checkPodSpec: the rules docs/deploy.md states for every skyload and server pod.
func checkPodSpec(where string, spec *corev1.PodSpec) []string {
	var problems []string
	all := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	for _, c := range all {
		at := fmt.Sprintf("%s container %q", where, c.Name)
		if c.Image == "" {
			problems = append(problems, at+": no image")
		}
		if strings.HasSuffix(c.Image, ":latest") || !strings.Contains(c.Image, ":") {
			problems = append(problems, at+": image "+c.Image+" is not pinned to a tag")
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() ||
			c.Resources.Limits.Memory().IsZero() {
			problems = append(problems, at+": needs cpu+memory requests and a memory limit")
		}
		for _, a := range append(append([]string{}, c.Command...), c.Args...) {
			if credentialArg.MatchString(a) {
				problems = append(problems, at+": credential in argv ("+a+"): use a Secret")
			}
		}
		for _, e := range c.Env {
			if e.Value != "" && credentialArg.MatchString(e.Name+"=") {
				problems = append(problems, at+": env "+e.Name+" holds a literal credential")
			}
		}
	}
	return problems
}

func podSpecOf(obj runtime.Object) *corev1.PodSpec {
	switch v := obj.(type) {
	case *corev1.Pod:
		return &v.Spec
	case *appsv1.Deployment:
		return &v.Spec.Template.Spec
	case *appsv1.StatefulSet:
		return &v.Spec.Template.Spec
	case *batchv1.Job:
		return &v.Spec.Template.Spec
	}
	return nil
}
