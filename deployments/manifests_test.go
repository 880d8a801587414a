package deployments_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// decodeStrict decodes one manifest into the API type its kind names;
// unknown fields are errors, as kubectl's strict validation would report.
func decodeStrict(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tm metav1.TypeMeta
	if err := sigsyaml.Unmarshal(data, &tm); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var obj any
	switch tm.APIVersion + "/" + tm.Kind {
	case "apps/v1/Deployment":
		obj = &appsv1.Deployment{}
	case "v1/Service":
		obj = &corev1.Service{}
	case "v1/ConfigMap":
		obj = &corev1.ConfigMap{}
	case "v1/Secret":
		obj = &corev1.Secret{}
	case "policy/v1/PodDisruptionBudget":
		obj = &policyv1.PodDisruptionBudget{}
	case "batch/v1/Job":
		obj = &batchv1.Job{}
	default:
		t.Fatalf("%s: unexpected kind %s %s", path, tm.APIVersion, tm.Kind)
	}
	if err := sigsyaml.UnmarshalStrict(data, obj); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return obj
}

func TestKubernetesManifests(t *testing.T) {
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	objs := map[string]any{}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		objs[filepath.Base(f)] = decodeStrict(t, f)
	}

	dep := objs["deployment.yaml"].(*appsv1.Deployment)
	pod := dep.Spec.Template
	if !labelsMatch(dep.Spec.Selector.MatchLabels, pod.Labels) {
		t.Fatal("deployment selector does not match its pod labels")
	}
	c := pod.Spec.Containers[0]
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Error("readiness probe must call /readyz")
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Error("liveness probe must call /healthz (not /readyz: a Redis outage must not restart pods)")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		t.Error("resource requests missing")
	}
	if sc := pod.Spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Error("pods must run as non-root")
	}

	svc := objs["service.yaml"].(*corev1.Service)
	if !labelsMatch(svc.Spec.Selector, pod.Labels) {
		t.Error("service selector does not match the pods")
	}
	pdb := objs["pdb.yaml"].(*policyv1.PodDisruptionBudget)
	if !labelsMatch(pdb.Spec.Selector.MatchLabels, pod.Labels) {
		t.Error("PodDisruptionBudget selector does not match the pods")
	}
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() >= int(*dep.Spec.Replicas) {
		t.Error("PodDisruptionBudget must allow at least one disruption")
	}

	// Every Secret/ConfigMap the pods read exists, and the secret template
	// carries the settings that must not live in a ConfigMap.
	secret := objs["secret.example.yaml"].(*corev1.Secret)
	for _, k := range []string{"AUTHD_MASTER_KEY", "AUTHD_DATABASE_URL", "AUTHD_REDIS_URL"} {
		if _, ok := secret.StringData[k]; !ok {
			t.Errorf("secret template lacks %s", k)
		}
	}
	cm := objs["configmap.yaml"].(*corev1.ConfigMap)
	for k := range cm.Data {
		if strings.Contains(k, "MASTER_KEY") || strings.Contains(k, "DATABASE_URL") || strings.Contains(k, "SECRET") {
			t.Errorf("%s belongs in the Secret, not the ConfigMap", k)
		}
	}
	// authd's metrics default to loopback; the pod must listen on its own
	// address, on the port it declares, for Prometheus to scrape it.
	metricsAddr := cm.Data["AUTHD_METRICS_ADDR"]
	if !scrapable(metricsAddr) {
		t.Errorf("configmap AUTHD_METRICS_ADDR = %q, want the pod address (e.g. :9090), not authd's loopback default", metricsAddr)
	}
	_, port, _ := net.SplitHostPort(metricsAddr)
	declared := false
	for _, p := range c.Ports {
		declared = declared || p.Name == "metrics" && strconv.Itoa(int(p.ContainerPort)) == port
	}
	if !declared {
		t.Errorf("the container declares no port \"metrics\" for AUTHD_METRICS_ADDR %q", metricsAddr)
	}
	if got := pod.Annotations["prometheus.io/port"]; got != port {
		t.Errorf("prometheus.io/port annotation %q, AUTHD_METRICS_ADDR %q", got, metricsAddr)
	}
	job := objs["migrate-job.yaml"].(*batchv1.Job)
	for _, spec := range []corev1.PodSpec{pod.Spec, job.Spec.Template.Spec} {
		for _, src := range spec.Containers[0].EnvFrom {
			switch {
			case src.SecretRef != nil && src.SecretRef.Name != secret.Name:
				t.Errorf("envFrom names secret %q, the template is %q", src.SecretRef.Name, secret.Name)
			case src.ConfigMapRef != nil && src.ConfigMapRef.Name != cm.Name:
				t.Errorf("envFrom names configmap %q, the manifest is %q", src.ConfigMapRef.Name, cm.Name)
			}
		}
	}
	if !slices.Equal(job.Spec.Template.Spec.Containers[0].Args, []string{"migrate"}) {
		t.Error("the migration job must run `authd migrate`")
	}

	// The kustomization lists every manifest but the secret template.
	var k struct {
		Resources []string `yaml:"resources"`
	}
	data, _ := os.ReadFile("kubernetes/kustomization.yaml")
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	for name := range objs {
		if name != "secret.example.yaml" && !slices.Contains(k.Resources, name) {
			t.Errorf("kustomization.yaml does not list %s", name)
		}
	}
}

func labelsMatch(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// composeFile is the part of the Compose specification authd's file uses;
// decoding with KnownFields refuses misspelt keys.
type composeFile struct {
	Services map[string]struct {
		Image       string                                `yaml:"image"`
		Build       *struct{ Context, Dockerfile string } `yaml:"build"`
		Command     []string                              `yaml:"command"`
		Environment map[string]string                     `yaml:"environment"`
		Ports       []string                              `yaml:"ports"`
		Volumes     []string                              `yaml:"volumes"`
		Restart     string                                `yaml:"restart"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck *struct {
			Test     []string `yaml:"test"`
			Interval string   `yaml:"interval"`
			Timeout  string   `yaml:"timeout"`
			Retries  int      `yaml:"retries"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func TestComposeFile(t *testing.T) {
	data, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var cf composeFile
	if err := dec.Decode(&cf); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, name := range []string{"authd", "postgres", "redis"} {
		if _, ok := cf.Services[name]; !ok {
			t.Fatalf("service %s missing", name)
		}
	}
	authd := cf.Services["authd"]
	if authd.Build == nil || authd.Build.Dockerfile != "deployments/Dockerfile" {
		t.Error("authd must build from deployments/Dockerfile")
	}
	if _, err := os.Stat(filepath.Join(authd.Build.Context, authd.Build.Dockerfile)); err != nil {
		t.Errorf("build context/dockerfile does not resolve: %v", err)
	}
	for dep, cond := range authd.DependsOn {
		if cond.Condition != "service_healthy" {
			t.Errorf("authd should wait for %s to be healthy", dep)
		}
		if cf.Services[dep].Healthcheck == nil {
			t.Errorf("%s has no healthcheck to wait for", dep)
		}
	}
	for _, v := range []string{"AUTHD_DATABASE_URL", "AUTHD_REDIS_URL", "AUTHD_MASTER_KEY"} {
		if authd.Environment[v] == "" {
			t.Errorf("authd environment lacks %s", v)
		}
	}
	if addr := authd.Environment["AUTHD_METRICS_ADDR"]; !scrapable(addr) {
		t.Errorf("authd AUTHD_METRICS_ADDR = %q, want the container address (e.g. :9090), not authd's loopback default", addr)
	}
}

// scrapable reports whether addr is a host:port that listens beyond
// loopback: an empty host or an unspecified address.
func scrapable(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return false
	}
	if host == "" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}
