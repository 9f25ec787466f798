// cnpgi-go-plugin: a small CNPG-I plugin written the way upstream Go plugins
// are (grpc-go, generated stubs, the habits of the Go helper library), for
// the conformance checker to judge:
//
//   - the Cluster is decoded leniently: unknown fields are ignored and the
//     kind is not checked, so a Pod sent in its place is answered OK;
//   - patches are the RFC 6902 diff of the object before and after, encoded
//     with encoding/json: an empty list of operations is the text `null`;
//   - errors are plain Go errors (gRPC code UNKNOWN).
//
// With -defect NAME it has one deliberate defect, which the checker must
// fail on the check named for it (see defects below).
//
//	cnpgi-go-plugin [-defect NAME] -plugin-path DIR
//	cnpgi-go-plugin [-defect NAME] -server-address HOST:PORT -server-cert F -server-key F -client-cert F
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cloudnative-pg/cnpg-i/pkg/identity"
	"github.com/cloudnative-pg/cnpg-i/pkg/lifecycle"
	"github.com/cloudnative-pg/cnpg-i/pkg/metrics"
	"github.com/cloudnative-pg/cnpg-i/pkg/operator"
	"github.com/cloudnative-pg/cnpg-i/pkg/postgres"
	"github.com/cloudnative-pg/cnpg-i/pkg/reconciler"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

const pluginName = "go-plugin.cnpgi.example"

// The deliberate defects, each with the check that must fail on it.
var defects = map[string]string{
	"":                          "",
	"nil-capability":            "capabilities.entries",    // a capability entry without its oneof
	"unserved-service":          "capabilities.services",   // advertises WAL, does not serve it
	"probe-error":               "probe",                   // Probe answers an error
	"status-array":              "operator.status",         // the status is a JSON array
	"reversed-patch":            "lifecycle.patch",         // CreatePatch(original, mutated)
	"nondeterministic-evaluate": "lifecycle.deterministic", // a timestamp in every answer
	"duplicate-sidecar":         "lifecycle.idempotent",    // appends its sidecar without looking
	"partial-config":            "postgres.configuration",  // answers only its own parameter
	"metrics-no-type":           "metrics.consistent",      // a metric without value_type
	"no-alpn":                   "",                        // TCP: GetConfigForClient without NextProtos h2
}

var defect string

// ---------------------------------------------------------------------------
// Lenient decoding, as the Go helper library's DecodeClusterLenient: plain
// encoding/json into the fields the plugin reads.

type pluginConfiguration struct {
	Name       string            `json:"name"`
	Parameters map[string]string `json:"parameters,omitempty"`
}

type pluginStatus struct {
	Name   string `json:"name"`
	Status string `json:"status,omitempty"`
}

type cluster struct {
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		Plugins []pluginConfiguration `json:"plugins,omitempty"`
	} `json:"spec"`
	Status struct {
		PluginStatus []pluginStatus `json:"pluginStatus,omitempty"`
	} `json:"status"`
}

func decodeClusterLenient(data []byte) (*cluster, error) {
	var c cluster
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("while decoding the cluster: %w", err)
	}
	return &c, nil
}

// ---------------------------------------------------------------------------
// RFC 6902 from a diff, with the Go helper library's signature:
// createPatch(newObject, oldObject).

type patchOperation struct {
	Operation string      `json:"op"`
	Path      string      `json:"path"`
	Value     interface{} `json:"value,omitempty"`
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func createPatch(newObject, oldObject interface{}) ([]byte, error) {
	newJSON, err := json.Marshal(newObject)
	if err != nil {
		return nil, err
	}
	oldJSON, err := json.Marshal(oldObject)
	if err != nil {
		return nil, err
	}
	var from, to interface{}
	if err := json.Unmarshal(oldJSON, &from); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(newJSON, &to); err != nil {
		return nil, err
	}
	var operations []patchOperation // nil when nothing changes: marshals as null
	operations = diff(operations, "", from, to)
	return json.Marshal(operations)
}

func diff(ops []patchOperation, path string, a, b interface{}) []patchOperation {
	switch at := a.(type) {
	case map[string]interface{}:
		bt, ok := b.(map[string]interface{})
		if !ok {
			return append(ops, patchOperation{"replace", path, b})
		}
		keys := make([]string, 0, len(at))
		for k := range at {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := path + "/" + pointerEscaper.Replace(k)
			if bv, found := bt[k]; found {
				ops = diff(ops, p, at[k], bv)
			} else {
				ops = append(ops, patchOperation{"remove", p, nil})
			}
		}
		var added []string
		for k := range bt {
			if _, found := at[k]; !found {
				added = append(added, k)
			}
		}
		sort.Strings(added)
		for _, k := range added {
			ops = append(ops, patchOperation{"add", path + "/" + pointerEscaper.Replace(k), bt[k]})
		}
		return ops
	case []interface{}:
		bt, ok := b.([]interface{})
		if !ok {
			return append(ops, patchOperation{"replace", path, b})
		}
		i := 0
		for ; i < len(at) && i < len(bt); i++ {
			ops = diff(ops, path+"/"+strconv.Itoa(i), at[i], bt[i])
		}
		for j := len(at) - 1; j >= i; j-- {
			ops = append(ops, patchOperation{"remove", path + "/" + strconv.Itoa(j), nil})
		}
		for ; i < len(bt); i++ {
			ops = append(ops, patchOperation{"add", path + "/-", bt[i]})
		}
		return ops
	default:
		aj, _ := json.Marshal(a)
		bj, _ := json.Marshal(b)
		if string(aj) != string(bj) {
			return append(ops, patchOperation{"replace", path, b})
		}
		return ops
	}
}

// ---------------------------------------------------------------------------
// Identity

type identityServer struct {
	identity.UnimplementedIdentityServer
}

func (identityServer) GetPluginMetadata(context.Context, *identity.GetPluginMetadataRequest) (*identity.GetPluginMetadataResponse, error) {
	return &identity.GetPluginMetadataResponse{
		Name:          pluginName,
		Version:       "0.1.0",
		DisplayName:   "Go plugin for the cnpgi-cpp tests",
		ProjectUrl:    "https://example.com/go-plugin",
		RepositoryUrl: "https://example.com/go-plugin.git",
		License:       "Apache-2.0",
		Maturity:      "alpha",
	}, nil
}

func service(t identity.PluginCapability_Service_Type) *identity.PluginCapability {
	return &identity.PluginCapability{Type: &identity.PluginCapability_Service_{
		Service: &identity.PluginCapability_Service{Type: t}}}
}

func (identityServer) GetPluginCapabilities(context.Context, *identity.GetPluginCapabilitiesRequest) (*identity.GetPluginCapabilitiesResponse, error) {
	caps := []*identity.PluginCapability{
		service(identity.PluginCapability_Service_TYPE_OPERATOR_SERVICE),
		service(identity.PluginCapability_Service_TYPE_LIFECYCLE_SERVICE),
		service(identity.PluginCapability_Service_TYPE_RECONCILER_HOOKS),
		service(identity.PluginCapability_Service_TYPE_POSTGRES),
		service(identity.PluginCapability_Service_TYPE_METRICS),
	}
	switch defect {
	case "nil-capability":
		caps = append(caps, &identity.PluginCapability{})
	case "unserved-service":
		caps = append(caps, service(identity.PluginCapability_Service_TYPE_WAL_SERVICE))
	}
	return &identity.GetPluginCapabilitiesResponse{Capabilities: caps}, nil
}

func (identityServer) Probe(context.Context, *identity.ProbeRequest) (*identity.ProbeResponse, error) {
	if defect == "probe-error" {
		return nil, errors.New("not ready: the configuration was not loaded")
	}
	return &identity.ProbeResponse{Ready: true}, nil
}

// ---------------------------------------------------------------------------
// Operator: a status, and defaulting of the Cluster.

type operatorServer struct {
	operator.UnimplementedOperatorServer
}

func (operatorServer) GetCapabilities(context.Context, *operator.OperatorCapabilitiesRequest) (*operator.OperatorCapabilitiesResult, error) {
	rpc := func(t operator.OperatorCapability_RPC_Type) *operator.OperatorCapability {
		return &operator.OperatorCapability{Type: &operator.OperatorCapability_Rpc{
			Rpc: &operator.OperatorCapability_RPC{Type: t}}}
	}
	return &operator.OperatorCapabilitiesResult{Capabilities: []*operator.OperatorCapability{
		rpc(operator.OperatorCapability_RPC_TYPE_SET_STATUS_IN_CLUSTER),
		rpc(operator.OperatorCapability_RPC_TYPE_MUTATE_CLUSTER),
	}}, nil
}

type enabledStatus struct {
	Enabled bool `json:"enabled"`
}

func (operatorServer) SetStatusInCluster(_ context.Context, req *operator.SetStatusInClusterRequest) (*operator.SetStatusInClusterResponse, error) {
	c, err := decodeClusterLenient(req.GetCluster())
	if err != nil {
		return nil, err
	}
	for _, s := range c.Status.PluginStatus {
		if s.Name == pluginName && s.Status == `{"enabled":true}` {
			return &operator.SetStatusInClusterResponse{}, nil // no change
		}
	}
	if defect == "status-array" {
		status, _ := json.Marshal([]string{"enabled"})
		return &operator.SetStatusInClusterResponse{JsonStatus: status}, nil
	}
	status, err := json.Marshal(enabledStatus{Enabled: true})
	if err != nil {
		return nil, err
	}
	return &operator.SetStatusInClusterResponse{JsonStatus: status}, nil
}

const defaultedAnnotation = "go-plugin.cnpgi.example/defaulted"

func (operatorServer) MutateCluster(_ context.Context, req *operator.OperatorMutateClusterRequest) (*operator.OperatorMutateClusterResult, error) {
	if _, err := decodeClusterLenient(req.GetDefinition()); err != nil {
		return nil, err
	}
	var original map[string]interface{}
	if err := json.Unmarshal(req.GetDefinition(), &original); err != nil {
		return nil, err
	}
	var mutated map[string]interface{}
	_ = json.Unmarshal(req.GetDefinition(), &mutated)
	annotations := childMap(childMap(mutated, "metadata"), "annotations")
	if _, found := annotations[defaultedAnnotation]; !found {
		annotations[defaultedAnnotation] = "true"
	}
	patch, err := createPatch(mutated, original)
	if err != nil {
		return nil, err
	}
	return &operator.OperatorMutateClusterResult{JsonPatch: patch}, nil
}

func childMap(parent map[string]interface{}, key string) map[string]interface{} {
	if child, ok := parent[key].(map[string]interface{}); ok {
		return child
	}
	child := map[string]interface{}{}
	parent[key] = child
	return child
}

// ---------------------------------------------------------------------------
// Lifecycle: a native sidecar and the plugin volume in every instance Pod.

type lifecycleServer struct {
	lifecycle.UnimplementedOperatorLifecycleServer
}

func (lifecycleServer) GetCapabilities(context.Context, *lifecycle.OperatorLifecycleCapabilitiesRequest) (*lifecycle.OperatorLifecycleCapabilitiesResponse, error) {
	return &lifecycle.OperatorLifecycleCapabilitiesResponse{
		LifecycleCapabilities: []*lifecycle.OperatorLifecycleCapabilities{{
			Group: "",
			Kind:  "Pod",
			OperationTypes: []*lifecycle.OperatorOperationType{
				{Type: lifecycle.OperatorOperationType_TYPE_CREATE},
				{Type: lifecycle.OperatorOperationType_TYPE_EVALUATE},
			},
		}},
	}, nil
}

func hasNamed(list []interface{}, name string) bool {
	for _, e := range list {
		if m, ok := e.(map[string]interface{}); ok && m["name"] == name {
			return true
		}
	}
	return false
}

func (lifecycleServer) LifecycleHook(_ context.Context, req *lifecycle.OperatorLifecycleRequest) (*lifecycle.OperatorLifecycleResponse, error) {
	if _, err := decodeClusterLenient(req.GetClusterDefinition()); err != nil {
		return nil, err
	}
	var pod map[string]interface{}
	if err := json.Unmarshal(req.GetObjectDefinition(), &pod); err != nil {
		return nil, fmt.Errorf("while decoding the pod: %w", err)
	}
	if kind, _ := pod["kind"].(string); kind != "Pod" {
		return &lifecycle.OperatorLifecycleResponse{}, nil
	}
	var mutated map[string]interface{}
	_ = json.Unmarshal(req.GetObjectDefinition(), &mutated)
	spec := childMap(mutated, "spec")

	initContainers, _ := spec["initContainers"].([]interface{})
	if defect == "duplicate-sidecar" || !hasNamed(initContainers, "go-plugin") {
		spec["initContainers"] = append(initContainers, map[string]interface{}{
			"name":          "go-plugin",
			"image":         "registry.example/go-plugin:0.1.0",
			"args":          []interface{}{"instance"},
			"restartPolicy": "Always",
			"volumeMounts": []interface{}{
				map[string]interface{}{"name": "plugins", "mountPath": "/plugins"},
			},
		})
	}
	volumes, _ := spec["volumes"].([]interface{})
	if !hasNamed(volumes, "plugins") {
		spec["volumes"] = append(volumes, map[string]interface{}{
			"name": "plugins", "emptyDir": map[string]interface{}{},
		})
	}
	labels := childMap(childMap(mutated, "metadata"), "labels")
	labels["go-plugin.cnpgi.example/injected"] = "true"
	if defect == "nondeterministic-evaluate" &&
		req.GetOperationType().GetType() == lifecycle.OperatorOperationType_TYPE_EVALUATE {
		childMap(childMap(mutated, "metadata"), "annotations")["go-plugin.cnpgi.example/evaluated-at"] =
			time.Now().Format(time.RFC3339Nano)
	}

	var patch []byte
	var err error
	if defect == "reversed-patch" {
		patch, err = createPatch(pod, mutated) // the arguments the wrong way round
	} else {
		patch, err = createPatch(mutated, pod)
	}
	if err != nil {
		return nil, err
	}
	return &lifecycle.OperatorLifecycleResponse{JsonPatch: patch}, nil
}

// ---------------------------------------------------------------------------
// Reconciler hooks, Postgres, Metrics

type reconcilerServer struct {
	reconciler.UnimplementedReconcilerHooksServer
}

func (reconcilerServer) GetCapabilities(context.Context, *reconciler.ReconcilerHooksCapabilitiesRequest) (*reconciler.ReconcilerHooksCapabilitiesResult, error) {
	return &reconciler.ReconcilerHooksCapabilitiesResult{
		ReconcilerCapabilities: []*reconciler.ReconcilerHooksCapability{
			{Kind: reconciler.ReconcilerHooksCapability_KIND_CLUSTER},
		},
	}, nil
}

func (reconcilerServer) Pre(_ context.Context, req *reconciler.ReconcilerHooksRequest) (*reconciler.ReconcilerHooksResult, error) {
	if _, err := decodeClusterLenient(req.GetClusterDefinition()); err != nil {
		return nil, err
	}
	return &reconciler.ReconcilerHooksResult{Behavior: reconciler.ReconcilerHooksResult_BEHAVIOR_CONTINUE}, nil
}

func (reconcilerServer) Post(_ context.Context, req *reconciler.ReconcilerHooksRequest) (*reconciler.ReconcilerHooksResult, error) {
	if _, err := decodeClusterLenient(req.GetClusterDefinition()); err != nil {
		return nil, err
	}
	return &reconciler.ReconcilerHooksResult{Behavior: reconciler.ReconcilerHooksResult_BEHAVIOR_CONTINUE}, nil
}

type postgresServer struct {
	postgres.UnimplementedPostgresServer
}

func (postgresServer) GetCapabilities(context.Context, *postgres.PostgresCapabilitiesRequest) (*postgres.PostgresCapabilitiesResult, error) {
	return &postgres.PostgresCapabilitiesResult{Capabilities: []*postgres.PostgresCapability{{
		Type: &postgres.PostgresCapability_Rpc{Rpc: &postgres.PostgresCapability_RPC{
			Type: postgres.PostgresCapability_RPC_TYPE_ENRICH_CONFIGURATION}}}}}, nil
}

func (postgresServer) EnrichConfiguration(_ context.Context, req *postgres.EnrichConfigurationRequest) (*postgres.EnrichConfigurationResult, error) {
	if _, err := decodeClusterLenient(req.GetClusterDefinition()); err != nil {
		return nil, err
	}
	configs := map[string]string{}
	if defect != "partial-config" {
		for k, v := range req.GetConfigs() {
			configs[k] = v
		}
	}
	configs["go_plugin.enabled"] = "on"
	return &postgres.EnrichConfigurationResult{Configs: configs}, nil
}

type metricsServer struct {
	metrics.UnimplementedMetricsServer
}

func (metricsServer) GetCapabilities(context.Context, *metrics.MetricsCapabilitiesRequest) (*metrics.MetricsCapabilitiesResult, error) {
	return &metrics.MetricsCapabilitiesResult{Capabilities: []*metrics.MetricsCapability{{
		Type: &metrics.MetricsCapability_Rpc{Rpc: &metrics.MetricsCapability_RPC{
			Type: metrics.MetricsCapability_RPC_TYPE_METRICS}}}}}, nil
}

func (metricsServer) Define(_ context.Context, req *metrics.DefineMetricsRequest) (*metrics.DefineMetricsResult, error) {
	m := &metrics.Metric{
		FqName:         "go_plugin_up",
		Help:           "1 when the plugin serves the cluster",
		VariableLabels: []string{"cluster"},
		ValueType:      &metrics.MetricType{Type: metrics.MetricType_TYPE_GAUGE},
	}
	if defect == "metrics-no-type" {
		m.ValueType = nil
	}
	return &metrics.DefineMetricsResult{Metrics: []*metrics.Metric{m}}, nil
}

func (metricsServer) Collect(_ context.Context, req *metrics.CollectMetricsRequest) (*metrics.CollectMetricsResult, error) {
	c, err := decodeClusterLenient(req.GetClusterDefinition())
	if err != nil {
		return nil, err
	}
	return &metrics.CollectMetricsResult{Metrics: []*metrics.CollectMetric{{
		FqName: "go_plugin_up", Value: 1, VariableLabels: []string{c.Metadata.Name},
	}}}, nil
}

// ---------------------------------------------------------------------------
// Serving, with the Go helper library's flags and TLS settings.

func serverTLS(certFile, keyFile, clientCertFile string) (credentials.TransportCredentials, error) {
	// Certificates are read again on every handshake, as the helper library
	// does (rotation without restart).
	load := func() (*tls.Config, error) {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		caPEM, err := ioutil.ReadFile(clientCertFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, fmt.Errorf("no certificate in %s", clientCertFile)
		}
		config := &tls.Config{
			Certificates: []tls.Certificate{pair},
			ClientCAs:    pool,
			ClientAuth:   tls.RequireAndVerifyClientCert,
			MinVersion:   tls.VersionTLS13,
			// grpc-go's credentials add h2 to the configuration they are
			// given, not to the one GetConfigForClient returns.
			NextProtos: []string{"h2"},
		}
		if defect == "no-alpn" {
			config.NextProtos = nil
		}
		return config, nil
	}
	if _, err := load(); err != nil {
		return nil, err
	}
	return credentials.NewTLS(&tls.Config{
		MinVersion: tls.VersionTLS13,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return load()
		},
	}), nil
}

func main() {
	flag.StringVar(&defect, "defect", "", "one deliberate defect (see the source)")
	pluginPath := flag.String("plugin-path", "/plugins", "the directory of the Unix socket")
	serverAddress := flag.String("server-address", "", "serve TCP with mutual TLS on this address")
	serverCert := flag.String("server-cert", "", "the server certificate")
	serverKey := flag.String("server-key", "", "the server key")
	clientCert := flag.String("client-cert", "", "the client certificate to trust")
	flag.Parse()
	if _, known := defects[defect]; !known {
		log.Fatalf("unknown defect %q", defect)
	}

	var listener net.Listener
	var options []grpc.ServerOption
	var err error
	socket := ""
	if *serverAddress != "" {
		creds, err := serverTLS(*serverCert, *serverKey, *clientCert)
		if err != nil {
			log.Fatalf("TLS: %v", err)
		}
		options = append(options, grpc.Creds(creds))
		listener, err = net.Listen("tcp", *serverAddress)
		if err != nil {
			log.Fatalf("listen: %v", err)
		}
	} else {
		socket = filepath.Join(*pluginPath, pluginName)
		_ = os.Remove(socket)
		listener, err = net.Listen("unix", socket)
		if err != nil {
			log.Fatalf("listen: %v", err)
		}
	}

	server := grpc.NewServer(options...)
	identity.RegisterIdentityServer(server, identityServer{})
	operator.RegisterOperatorServer(server, operatorServer{})
	lifecycle.RegisterOperatorLifecycleServer(server, lifecycleServer{})
	reconciler.RegisterReconcilerHooksServer(server, reconcilerServer{})
	postgres.RegisterPostgresServer(server, postgresServer{})
	metrics.RegisterMetricsServer(server, metricsServer{})

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-signals
		server.Stop()
	}()
	log.Printf("cnpgi-go-plugin (defect %q) listening on address=%s", defect, listener.Addr())
	if err := server.Serve(listener); err != nil {
		log.Printf("serve: %v", err)
	}
	if socket != "" {
		_ = os.Remove(socket)
	}
}
