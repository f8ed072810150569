// Package deploy holds abscopal's deployment files (Kubernetes, KServe,
// systemd, Docker). Its tests check the manifests: each decoded strictly
// into the Kubernetes API's types (an unknown or misspelt field fails), the
// kustomize overlays built as kubectl would build them, and KServe's
// resources validated against KServe's own schemas.
package deploy

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// object is a decoded manifest: its kind and name, and the typed value.
type object struct {
	file, kind, name string
	value            any
}

// decodeStrict decodes each document of a YAML stream into the Kubernetes
// type of its kind, refusing unknown fields.
func decodeStrict(t *testing.T, file string, src []byte) []object {
	t.Helper()
	var out []object
	for i, doc := range splitDocuments(src) {
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			t.Fatalf("%s: document %d: %v", file, i+1, err)
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		json.Unmarshal(js, &head)
		var v any
		switch head.APIVersion + " " + head.Kind {
		case "apps/v1 Deployment":
			v = &appsv1.Deployment{}
		case "v1 Service":
			v = &corev1.Service{}
		case "v1 Namespace":
			v = &corev1.Namespace{}
		case "v1 ServiceAccount":
			v = &corev1.ServiceAccount{}
		case "v1 ConfigMap":
			v = &corev1.ConfigMap{}
		case "policy/v1 PodDisruptionBudget":
			v = &policyv1.PodDisruptionBudget{}
		case "autoscaling/v2 HorizontalPodAutoscaler":
			v = &autoscalingv2.HorizontalPodAutoscaler{}
		default:
			t.Fatalf("%s: document %d: %s %s is not a kind these tests know", file, i+1, head.APIVersion, head.Kind)
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			t.Errorf("%s: %s %s: %v", file, head.Kind, head.Metadata.Name, err)
			continue
		}
		out = append(out, object{file: file, kind: head.Kind, name: head.Metadata.Name, value: v})
	}
	return out
}

func splitDocuments(src []byte) [][]byte {
	var out [][]byte
	for _, doc := range bytes.Split(src, []byte("\n---\n")) {
		if len(bytes.TrimSpace(stripComments(doc))) > 0 {
			out = append(out, doc)
		}
	}
	return out
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.Bytes()
}

// TestKubernetesManifestsDecodeStrictly: every resource file of
// deploy/kubernetes decodes into its Kubernetes type with no unknown field.
func TestKubernetesManifestsDecodeStrictly(t *testing.T) {
	files, _ := filepath.Glob("kubernetes/*/*.yaml")
	more, _ := filepath.Glob("kubernetes/overlays/*/*.yaml")
	files = append(files, more...)
	n := 0
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += len(decodeStrict(t, f, src))
	}
	if n < 6 {
		t.Errorf("%d resources decoded, want the base's four and the overlays' namespaces", n)
	}
}

// build runs kustomize on an overlay, as "kubectl apply -k" does, and
// decodes what it makes.
func build(t *testing.T, dir string) map[string]object {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	y, err := res.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]object{}
	for _, o := range decodeStrict(t, dir+" (built)", y) {
		out[o.kind] = o
	}
	return out
}

// TestKustomizeOverlays builds the overlays and checks what an operator
// relies on: the restricted pod, the probes, the replicas and what the
// demo leaves out.
func TestKustomizeOverlays(t *testing.T) {
	prod := build(t, "kubernetes/overlays/production")
	for _, kind := range []string{"Namespace", "ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"} {
		if _, ok := prod[kind]; !ok {
			t.Errorf("production: no %s", kind)
		}
	}
	d := prod["Deployment"].value.(*appsv1.Deployment)
	c := d.Spec.Template.Spec.Containers[0]
	sc := c.SecurityContext
	switch {
	case d.Namespace != "abscopal" || *d.Spec.Replicas != 3:
		t.Errorf("production: namespace %q, %d replicas", d.Namespace, *d.Spec.Replicas)
	case c.Image != "registry.hospital.example/abscopal:v1.0.0":
		t.Errorf("production: image %s", c.Image)
	case sc == nil || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || !slices.Contains(sc.Capabilities.Drop, "ALL"):
		t.Errorf("production: container security context %+v", sc)
	case !*d.Spec.Template.Spec.SecurityContext.RunAsNonRoot:
		t.Error("production: the pod may run as root")
	case c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz":
		t.Errorf("production: probes %s, %s", c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path)
	case c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero():
		t.Errorf("production: resources %v", c.Resources)
	}
	// The registry's URL comes from the generated ConfigMap, under its
	// hashed name.
	cm := prod["ConfigMap"].value.(*corev1.ConfigMap)
	if !strings.HasPrefix(cm.Name, "abscopal-") || !strings.HasPrefix(cm.Data["registry"], "s3://") || c.Env[0].ValueFrom.ConfigMapKeyRef.Name != cm.Name {
		t.Errorf("production: ConfigMap %s %v, referred to as %s", cm.Name, cm.Data, c.Env[0].ValueFrom.ConfigMapKeyRef.Name)
	}
	for _, e := range c.Env {
		if strings.Contains(e.Name, "SECRET") && e.Value != "" {
			t.Errorf("production: a secret in the manifest: %s", e.Name)
		}
	}
	if !slices.Contains(c.Args, "--tokens-file=/run/secrets/abscopal/tokens") {
		t.Errorf("production: no tokens: %v", c.Args)
	}
	hpa := prod["HorizontalPodAutoscaler"].value.(*autoscalingv2.HorizontalPodAutoscaler)
	if hpa.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU || *hpa.Spec.MinReplicas != 3 {
		t.Errorf("production: HPA %+v", hpa.Spec)
	}

	demo := build(t, "kubernetes/overlays/demo")
	for _, kind := range []string{"HorizontalPodAutoscaler", "PodDisruptionBudget"} {
		if _, ok := demo[kind]; ok {
			t.Errorf("demo: has a %s", kind)
		}
	}
	d = demo["Deployment"].value.(*appsv1.Deployment)
	c = d.Spec.Template.Spec.Containers[0]
	if *d.Spec.Replicas != 1 || !slices.Equal(c.Command, []string{"/usr/local/bin/abscopal", "demo"}) || len(c.EnvFrom) != 0 || d.Spec.Template.Spec.Volumes[0].EmptyDir == nil {
		t.Errorf("demo: %d replicas, command %v, envFrom %v, volumes %v", *d.Spec.Replicas, c.Command, c.EnvFrom, d.Spec.Template.Spec.Volumes)
	}
}

// crdSchema loads the OpenAPI schema of a version of a KServe custom
// resource, made strict: an object that lists its properties accepts no
// others (the API server prunes unknown fields, and kubectl's strict
// validation refuses them), except where the CRD keeps unknown fields.
func crdSchema(t *testing.T, file, version string) *openapi3.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "kserve", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	src, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(src)
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Name   string `json:"name"`
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(js, &crd); err != nil {
		t.Fatal(err)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name != version {
			continue
		}
		strict(v.Schema.OpenAPIV3Schema)
		b, _ := json.Marshal(v.Schema.OpenAPIV3Schema)
		var s openapi3.Schema
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		return &s
	}
	t.Fatalf("%s has no version %s", file, version)
	return nil
}

// strict sets additionalProperties false on every object schema that lists
// its properties and does not keep unknown fields.
func strict(s map[string]any) {
	for k, v := range s {
		switch v := v.(type) {
		case map[string]any:
			strict(v)
		case []any:
			for _, e := range v {
				if m, ok := e.(map[string]any); ok {
					strict(m)
				}
			}
		default:
			_ = k
		}
	}
	_, props := s["properties"]
	_, additional := s["additionalProperties"]
	if props && !additional && s["x-kubernetes-preserve-unknown-fields"] != true {
		s["additionalProperties"] = false
	}
}

// TestKServeManifests validates the ClusterServingRuntime and the
// InferenceService against KServe's schemas (testdata/kserve/README.md).
func TestKServeManifests(t *testing.T) {
	schemas := map[string]*openapi3.Schema{
		"serving.kserve.io/v1alpha1 ClusterServingRuntime": crdSchema(t, "serving.kserve.io_clusterservingruntimes.yaml.gz", "v1alpha1"),
		"serving.kserve.io/v1beta1 InferenceService":       crdSchema(t, "serving.kserve.io_inferenceservices.yaml.gz", "v1beta1"),
	}
	seen := map[string]bool{}
	for _, f := range []string{"kserve/clusterservingruntime.yaml", "kserve/inferenceservice.yaml"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range splitDocuments(src) {
			js, err := yaml.YAMLToJSON(doc)
			if err != nil {
				t.Fatal(err)
			}
			var v map[string]any
			json.Unmarshal(js, &v)
			key := fmt.Sprint(v["apiVersion"], " ", v["kind"])
			schema, ok := schemas[key]
			if !ok {
				decodeStrict(t, f, doc) // a Kubernetes resource beside them
				continue
			}
			seen[key] = true
			// The metadata is the API server's to check.
			delete(v, "metadata")
			if err := schema.VisitJSON(v, openapi3.MultiErrors()); err != nil {
				t.Errorf("%s: %s: %v", f, key, err)
			}
		}
	}
	if len(seen) != 2 {
		t.Errorf("validated %v, want both KServe resources", seen)
	}
	// The schemas are strict: a misspelt field fails.
	var bad map[string]any
	json.Unmarshal([]byte(`{"apiVersion":"serving.kserve.io/v1beta1","kind":"InferenceService","spec":{"predictor":{"model":{"modelFormat":{"name":"abscopal"},"storageURI":"s3://x"}}}}`), &bad)
	if err := schemas["serving.kserve.io/v1beta1 InferenceService"].VisitJSON(bad); err == nil || !strings.Contains(err.Error(), "storageURI") {
		t.Errorf("a misspelt storageUri passed: %v", err)
	}
}
