// Offline kubeconform schemas: the OpenAPI v3 documents client-go embeds (openapitest)
// turned into standalone, strict JSON schemas named as kubeconform's templates expect.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/openapi/openapitest"
)

type openapiDoc struct {
	Components struct {
		Schemas map[string]map[string]any `json:"schemas"`
	} `json:"components"`
}

func writeSchemas(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	paths, err := openapitest.NewEmbeddedFileClient().Paths()
	if err != nil {
		return err
	}
	written := 0
	for _, p := range []string{"api/v1", "apis/apps/v1", "apis/batch/v1"} {
		gv, ok := paths[p]
		if !ok {
			return fmt.Errorf("client-go embeds no OpenAPI document for %s", p)
		}
		raw, err := gv.Schema("application/json")
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		var doc openapiDoc
		if err := json.Unmarshal(raw, &doc); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		n, err := writeKindSchemas(dir, doc.Components.Schemas)
		if err != nil {
			return err
		}
		written += n
	}
	fmt.Printf("wrote %d schemas to %s\n", written, dir)
	return nil
}

// writeKindSchemas writes one file per group/version/kind the document defines.
func writeKindSchemas(dir string, defs map[string]map[string]any) (int, error) {
	n := 0
	for name, def := range defs {
		gvks, _ := def["x-kubernetes-group-version-kind"].([]any)
		for _, g := range gvks {
			gvk, _ := g.(map[string]any)
			group, _ := gvk["group"].(string)
			version, _ := gvk["version"].(string)
			kind, _ := gvk["kind"].(string)
			schema := inline(def, defs, map[string]bool{name: true})
			data, err := json.MarshalIndent(schema, "", " ")
			if err != nil {
				return n, err
			}
			if err := os.WriteFile(filepath.Join(dir, schemaFileName(group, version, kind)), data, 0o644); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// schemaFileName follows kubeconform's {{ .ResourceKind }}{{ .KindSuffix }}.json.
func schemaFileName(group, version, kind string) string {
	suffix := "-" + strings.ToLower(version)
	if group != "" {
		suffix = "-" + strings.ToLower(strings.Split(group, ".")[0]) + suffix
	}
	return strings.ToLower(kind) + suffix + ".json"
}

// inline resolves every $ref in place, makes objects strict (no unknown fields) and turns
// OpenAPI's nullable into a JSON-schema type list. A recursive type is cut to {} (any).
func inline(node any, defs map[string]map[string]any, stack map[string]bool) any {
	switch v := node.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok {
			name := strings.TrimPrefix(ref, "#/components/schemas/")
			def, found := defs[name]
			if !found || stack[name] {
				return map[string]any{}
			}
			stack[name] = true
			out := inline(def, defs, stack)
			delete(stack, name)
			return out
		}
		out := make(map[string]any, len(v)+1)
		for k, child := range v {
			if k == "x-kubernetes-group-version-kind" || k == "description" {
				continue
			}
			if k == "properties" {
				props := map[string]any{}
				for pk, pv := range child.(map[string]any) {
					props[pk] = inline(pv, defs, stack)
				}
				out[k] = props
				continue
			}
			out[k] = inline(child, defs, stack)
		}
		if _, hasProps := v["properties"]; hasProps {
			if _, set := v["additionalProperties"]; !set {
				out["additionalProperties"] = false
			}
		}
		if nullable, _ := v["nullable"].(bool); nullable {
			if t, ok := v["type"].(string); ok {
				out["type"] = []any{t, "null"}
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, child := range v {
			out[i] = inline(child, defs, stack)
		}
		return out
	default:
		return v
	}
}
