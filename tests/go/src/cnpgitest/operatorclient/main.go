// cnpgi-go-operator-client: talks to a CNPG-I plugin from the operator's own
// stack (grpc-go, Go's crypto/tls, evanphx/json-patch v5, encoding/json),
// the way CloudNativePG does (../shared/cnpgi-protocol/SEMANTICS.md):
//
//   - Unix socket, plaintext; or TCP with TLS 1.3 as minimum, the client
//     certificate, the plugin's certificate pinned as the only root and
//     ServerName the short Service name (1.3), ALPN h2 required back as
//     current grpc-go requires it;
//   - a pool of connections, each with the handshake in the operator's
//     order (2.1), and Probe before every use of a connection (1.4);
//   - every returned patch decoded and applied with evanphx/json-patch v5 to
//     the bytes sent, the result decoded as the operator does (kind and
//     apiVersion kept), EVALUATE then CREATE on its result (3.2);
//   - statuses unmarshalled into a Go map (3.1), configurations and metrics
//     as the instance manager reads them (3.8, 3.9), WAL archived and
//     restored through absolute paths (3.4, 3.5);
//   - the same calls from goroutines on every connection at once (1.4).
//
// One line per check, then "N passed, N failed"; exit status 1 on a failure.
//
//	cnpgi-go-operator-client -data DIR (-socket PATH | -address HOST:PORT
//	    -client-cert F -client-key F -server-cert F [-server-name NAME])
//	    [-parameters JSON] [-wal-dir DIR] [-connections N]
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/ioutil"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cloudnative-pg/cnpg-i/pkg/backup"
	"github.com/cloudnative-pg/cnpg-i/pkg/identity"
	"github.com/cloudnative-pg/cnpg-i/pkg/lifecycle"
	"github.com/cloudnative-pg/cnpg-i/pkg/metrics"
	"github.com/cloudnative-pg/cnpg-i/pkg/operator"
	"github.com/cloudnative-pg/cnpg-i/pkg/postgres"
	"github.com/cloudnative-pg/cnpg-i/pkg/reconciler"
	restore "github.com/cloudnative-pg/cnpg-i/pkg/restore/job"
	"github.com/cloudnative-pg/cnpg-i/pkg/wal"
	jsonpatch "github.com/evanphx/json-patch/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// The operator's TCP per-call deadline (1.4); over Unix the operator sets
// none, this client keeps it as a guard.
const callTimeout = 30 * time.Second

var (
	passed, failed int
	outputMu       sync.Mutex
)

func pass(check, format string, args ...interface{}) {
	outputMu.Lock()
	defer outputMu.Unlock()
	passed++
	fmt.Printf("PASS  %-32s %s\n", check, fmt.Sprintf(format, args...))
}

func fail(check, format string, args ...interface{}) {
	outputMu.Lock()
	defer outputMu.Unlock()
	failed++
	fmt.Printf("FAIL  %-32s %s\n", check, fmt.Sprintf(format, args...))
}

// ---------------------------------------------------------------------------
// Connections

type endpoint struct {
	socket     string
	address    string
	tlsConfig  *tls.Config
	serverName string
}

// operatorTLS is the operator's tls.Config (1.3): TLS 1.3 minimum, its
// client certificate, the plugin's own certificate as the only root.
func operatorTLS(clientCert, clientKey, serverCert, serverName string) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(clientCert, clientKey)
	if err != nil {
		return nil, fmt.Errorf("client certificate: %w", err)
	}
	pem, err := ioutil.ReadFile(serverCert)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", serverCert)
	}
	return &tls.Config{
		ServerName:   serverName,
		RootCAs:      roots,
		Certificates: []tls.Certificate{pair},
		MinVersion:   tls.VersionTLS13,
	}, nil
}

func (e endpoint) dial(ctx context.Context) (*grpc.ClientConn, error) {
	if e.socket != "" {
		return grpc.DialContext(ctx, "unix://"+e.socket, grpc.WithInsecure(), grpc.WithBlock())
	}
	return grpc.DialContext(ctx, e.address,
		grpc.WithTransportCredentials(credentials.NewTLS(e.tlsConfig.Clone())), grpc.WithBlock())
}

// connection is one pooled connection with its handshake (2.1).
type connection struct {
	conn     *grpc.ClientConn
	metadata *identity.GetPluginMetadataResponse
	services map[identity.PluginCapability_Service_Type]bool

	operatorRPCs   map[operator.OperatorCapability_RPC_Type]bool
	lifecycle      []*lifecycle.OperatorLifecycleCapabilities
	walRPCs        map[wal.WALCapability_RPC_Type]bool
	backupRPCs     map[backup.BackupCapability_RPC_Type]bool
	reconcilerKind map[reconciler.ReconcilerHooksCapability_Kind]bool
	restoreJob     bool
	postgresRPCs   map[postgres.PostgresCapability_RPC_Type]bool
	metricsRPCs    map[metrics.MetricsCapability_RPC_Type]bool
}

func callContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), callTimeout)
}

// handshake runs what LoadPlugin runs on a new connection, in its order:
// metadata, capabilities, each advertised service's capabilities, Probe.
func handshake(cc *grpc.ClientConn) (*connection, error) {
	c := &connection{conn: cc, services: map[identity.PluginCapability_Service_Type]bool{}}
	ctx, cancel := callContext()
	defer cancel()
	id := identity.NewIdentityClient(cc)
	var err error
	if c.metadata, err = id.GetPluginMetadata(ctx, &identity.GetPluginMetadataRequest{}); err != nil {
		return nil, fmt.Errorf("GetPluginMetadata: %w", err)
	}
	caps, err := id.GetPluginCapabilities(ctx, &identity.GetPluginCapabilitiesRequest{})
	if err != nil {
		return nil, fmt.Errorf("GetPluginCapabilities: %w", err)
	}
	var order []identity.PluginCapability_Service_Type
	for _, capability := range caps.Capabilities {
		// GetService().Type: the operator's field access (a nil service
		// panics there).
		t := capability.GetService().Type
		c.services[t] = true
		order = append(order, t)
	}
	type step struct {
		service identity.PluginCapability_Service_Type
		load    func() error
	}
	steps := []step{
		{identity.PluginCapability_Service_TYPE_OPERATOR_SERVICE, func() error {
			r, err := operator.NewOperatorClient(cc).GetCapabilities(ctx, &operator.OperatorCapabilitiesRequest{})
			if err == nil {
				c.operatorRPCs = map[operator.OperatorCapability_RPC_Type]bool{}
				for _, x := range r.Capabilities {
					c.operatorRPCs[x.GetRpc().Type] = true
				}
			}
			return err
		}},
		{identity.PluginCapability_Service_TYPE_LIFECYCLE_SERVICE, func() error {
			r, err := lifecycle.NewOperatorLifecycleClient(cc).GetCapabilities(ctx, &lifecycle.OperatorLifecycleCapabilitiesRequest{})
			if err == nil {
				c.lifecycle = r.LifecycleCapabilities
			}
			return err
		}},
		{identity.PluginCapability_Service_TYPE_WAL_SERVICE, func() error {
			r, err := wal.NewWALClient(cc).GetCapabilities(ctx, &wal.WALCapabilitiesRequest{})
			if err == nil {
				c.walRPCs = map[wal.WALCapability_RPC_Type]bool{}
				for _, x := range r.Capabilities {
					c.walRPCs[x.GetRpc().Type] = true
				}
			}
			return err
		}},
		{identity.PluginCapability_Service_TYPE_BACKUP_SERVICE, func() error {
			r, err := backup.NewBackupClient(cc).GetCapabilities(ctx, &backup.BackupCapabilitiesRequest{})
			if err == nil {
				c.backupRPCs = map[backup.BackupCapability_RPC_Type]bool{}
				for _, x := range r.Capabilities {
					c.backupRPCs[x.GetRpc().Type] = true
				}
			}
			return err
		}},
		{identity.PluginCapability_Service_TYPE_RECONCILER_HOOKS, func() error {
			r, err := reconciler.NewReconcilerHooksClient(cc).GetCapabilities(ctx, &reconciler.ReconcilerHooksCapabilitiesRequest{})
			if err == nil {
				c.reconcilerKind = map[reconciler.ReconcilerHooksCapability_Kind]bool{}
				for _, x := range r.ReconcilerCapabilities {
					c.reconcilerKind[x.Kind] = true
				}
			}
			return err
		}},
		{identity.PluginCapability_Service_TYPE_RESTORE_JOB, func() error {
			r, err := restore.NewRestoreJobHooksClient(cc).GetCapabilities(ctx, &restore.RestoreJobHooksCapabilitiesRequest{})
			if err == nil {
				for _, x := range r.Capabilities {
					c.restoreJob = c.restoreJob || x.Kind == restore.RestoreJobHooksCapability_KIND_RESTORE
				}
			}
			return err
		}},
		{identity.PluginCapability_Service_TYPE_POSTGRES, func() error {
			r, err := postgres.NewPostgresClient(cc).GetCapabilities(ctx, &postgres.PostgresCapabilitiesRequest{})
			if err == nil {
				c.postgresRPCs = map[postgres.PostgresCapability_RPC_Type]bool{}
				for _, x := range r.Capabilities {
					c.postgresRPCs[x.GetRpc().Type] = true
				}
			}
			return err
		}},
		{identity.PluginCapability_Service_TYPE_METRICS, func() error {
			r, err := metrics.NewMetricsClient(cc).GetCapabilities(ctx, &metrics.MetricsCapabilitiesRequest{})
			if err == nil {
				c.metricsRPCs = map[metrics.MetricsCapability_RPC_Type]bool{}
				for _, x := range r.Capabilities {
					c.metricsRPCs[x.GetRpc().Type] = true
				}
			}
			return err
		}},
	}
	for _, s := range steps {
		if !c.services[s.service] {
			continue
		}
		if err := s.load(); err != nil {
			return nil, fmt.Errorf("while querying plugin capabilities (%s): %w", s.service, err)
		}
	}
	if _, err := id.Probe(ctx, &identity.ProbeRequest{}); err != nil {
		return nil, fmt.Errorf("Probe: %w", err)
	}
	return c, nil
}

// pool hands out connections round-robin and probes each on acquisition,
// as the operator's pool does (1.4).
type pool struct {
	mu    sync.Mutex
	conns []*connection
	next  int
}

func (p *pool) acquire() (*connection, error) {
	p.mu.Lock()
	c := p.conns[p.next%len(p.conns)]
	p.next++
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := identity.NewIdentityClient(c.conn).Probe(ctx, &identity.ProbeRequest{}); err != nil {
		return nil, fmt.Errorf("Probe on acquisition: %w", err)
	}
	return c, nil
}

// ---------------------------------------------------------------------------
// Objects

func readJSON(dir, name string) map[string]interface{} {
	data, err := ioutil.ReadFile(filepath.Join(dir, name))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var out map[string]interface{}
	if err := json.Unmarshal(data, &out); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(2)
	}
	return out
}

func mustJSON(v interface{}) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

func names(m interface{}) []string {
	var out []string
	switch t := m.(type) {
	case map[operator.OperatorCapability_RPC_Type]bool:
		for k := range t {
			out = append(out, k.String())
		}
	case map[wal.WALCapability_RPC_Type]bool:
		for k := range t {
			out = append(out, k.String())
		}
	case map[backup.BackupCapability_RPC_Type]bool:
		for k := range t {
			out = append(out, k.String())
		}
	}
	sort.Strings(out)
	return out
}

// clusterFor is the fixture Cluster as the operator sends it to this plugin:
// its entry in spec.plugins, and status.pluginStatus rebuilt from the
// handshake (2.2).
func clusterFor(base map[string]interface{}, c *connection, parameters map[string]string) []byte {
	var cluster map[string]interface{}
	_ = json.Unmarshal(mustJSON(base), &cluster)
	name := c.metadata.Name
	spec := cluster["spec"].(map[string]interface{})
	params := map[string]interface{}{}
	for k, v := range parameters {
		params[k] = v
	}
	plugins, _ := spec["plugins"].([]interface{})
	spec["plugins"] = append(plugins, map[string]interface{}{
		"name": name, "enabled": true, "parameters": params,
	})
	var services []string
	for t := range c.services {
		services = append(services, t.String())
	}
	sort.Strings(services)
	entry := map[string]interface{}{"name": name, "version": c.metadata.Version, "capabilities": services}
	if r := names(c.operatorRPCs); len(r) > 0 {
		entry["operatorCapabilities"] = r
	}
	if r := names(c.walRPCs); len(r) > 0 {
		entry["walCapabilities"] = r
	}
	if r := names(c.backupRPCs); len(r) > 0 {
		entry["backupCapabilities"] = r
	}
	status, _ := cluster["status"].(map[string]interface{})
	if status == nil {
		status = map[string]interface{}{}
		cluster["status"] = status
	}
	list, _ := status["pluginStatus"].([]interface{})
	status["pluginStatus"] = append(list, entry)
	return mustJSON(cluster)
}

// applyPatch is what the operator does with a LifecycleHook answer (3.2):
// empty means no change; otherwise DecodePatch and Apply on the bytes sent,
// and the result must still be the kind that was sent.
func applyPatch(sent, patch []byte) ([]byte, error) {
	if len(patch) == 0 {
		return sent, nil
	}
	decoded, err := jsonpatch.DecodePatch(patch)
	if err != nil {
		return nil, fmt.Errorf("DecodePatch(%s): %w", abbreviate(patch), err)
	}
	result, err := decoded.Apply(sent)
	if err != nil {
		return nil, fmt.Errorf("Apply(%s): %w", abbreviate(patch), err)
	}
	var before, after struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	_ = json.Unmarshal(sent, &before)
	if err := json.Unmarshal(result, &after); err != nil {
		return nil, fmt.Errorf("the patched object does not decode: %w", err)
	}
	if before != after {
		return nil, fmt.Errorf("the patch turns %s %s into %s %s", before.APIVersion, before.Kind,
			after.APIVersion, after.Kind)
	}
	return result, nil
}

func abbreviate(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "..."
	}
	return string(b)
}

func semanticallyEqual(a, b []byte) bool {
	var x, y interface{}
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// duplicates lists names the API server requires to be unique in a pod
// spec: containers and init containers, volumes.
func duplicates(object []byte) []string {
	var o struct {
		Kind string `json:"kind"`
		Spec struct {
			podSpec
			Template struct {
				Spec podSpec `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	_ = json.Unmarshal(object, &o)
	spec := o.Spec.Template.Spec
	if o.Kind == "Pod" {
		spec = o.Spec.podSpec
	}
	var out []string
	seen := map[string]bool{}
	for _, c := range append(append([]named{}, spec.InitContainers...), spec.Containers...) {
		if seen["c/"+c.Name] {
			out = append(out, "container "+c.Name)
		}
		seen["c/"+c.Name] = true
	}
	for _, v := range spec.Volumes {
		if seen["v/"+v.Name] {
			out = append(out, "volume "+v.Name)
		}
		seen["v/"+v.Name] = true
	}
	return out
}

type named struct {
	Name string `json:"name"`
}

type podSpec struct {
	InitContainers []named `json:"initContainers"`
	Containers     []named `json:"containers"`
	Volumes        []named `json:"volumes"`
}

// ---------------------------------------------------------------------------
// The checks

type client struct {
	pool       *pool
	cluster    []byte
	objects    map[string]map[string]interface{} // "group/kind" -> fixture
	parameters map[string]string
	walDir     string
}

func (cl *client) lifecycleCall(op lifecycle.OperatorOperationType_Type, object []byte) ([]byte, []byte, error) {
	c, err := cl.pool.acquire()
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := callContext()
	defer cancel()
	r, err := lifecycle.NewOperatorLifecycleClient(c.conn).LifecycleHook(ctx, &lifecycle.OperatorLifecycleRequest{
		OperationType:     &lifecycle.OperatorOperationType{Type: op},
		ClusterDefinition: cl.cluster,
		ObjectDefinition:  object,
	})
	if err != nil {
		return nil, nil, err
	}
	result, err := applyPatch(object, r.JsonPatch)
	return result, r.JsonPatch, err
}

func subscribed(c *connection, group, kind string, op lifecycle.OperatorOperationType_Type) bool {
	for _, s := range c.lifecycle {
		if s.Group != group || s.Kind != kind {
			continue
		}
		for _, t := range s.OperationTypes {
			if t.Type == op {
				return true
			}
		}
	}
	return false
}

func (cl *client) checkLifecycle(c *connection) {
	if !c.services[identity.PluginCapability_Service_TYPE_LIFECYCLE_SERVICE] {
		return
	}
	kinds := map[string]bool{}
	for _, s := range c.lifecycle {
		key := s.Group + "/" + s.Kind
		if kinds[key] {
			continue
		}
		kinds[key] = true
		fixture, ok := cl.objects[key]
		if !ok {
			continue
		}
		label := map[bool]string{true: "core", false: s.Group}[s.Group == ""] + "/" + s.Kind
		object := mustJSON(fixture)
		current := object
		on := ""
		if subscribed(c, s.Group, s.Kind, lifecycle.OperatorOperationType_TYPE_EVALUATE) {
			evaluated, patch, err := cl.lifecycleCall(lifecycle.OperatorOperationType_TYPE_EVALUATE, object)
			if err != nil {
				fail("lifecycle.evaluate", "EVALUATE %s: %v", label, err)
				continue
			}
			pass("lifecycle.evaluate", "EVALUATE %s: the patch (%d bytes) applies with evanphx/json-patch and keeps the kind", label, len(patch))
			// Determinism: every connection, same answer (3.2).
			same := true
			for range cl.pool.conns {
				again, _, err := cl.lifecycleCall(lifecycle.OperatorOperationType_TYPE_EVALUATE, object)
				if err != nil || !semanticallyEqual(again, evaluated) {
					fail("lifecycle.deterministic", "EVALUATE %s answered differently on another connection (%v)", label, err)
					same = false
					break
				}
			}
			if same {
				pass("lifecycle.deterministic", "EVALUATE %s: the same object on %d connections", label, len(cl.pool.conns))
			}
			current = evaluated
			on = " on the EVALUATE result"
		}
		if subscribed(c, s.Group, s.Kind, lifecycle.OperatorOperationType_TYPE_CREATE) {
			// CREATE gets the EVALUATE result, with the computed spec in the
			// cnpg.io/podSpec annotation (3.2, 4.3): a larger request.
			var withSpec map[string]interface{}
			_ = json.Unmarshal(current, &withSpec)
			metadata, _ := withSpec["metadata"].(map[string]interface{})
			if metadata != nil && s.Kind == "Pod" {
				annotations, _ := metadata["annotations"].(map[string]interface{})
				if annotations == nil {
					annotations = map[string]interface{}{}
					metadata["annotations"] = annotations
				}
				annotations["cnpg.io/podSpec"] = string(mustJSON(withSpec["spec"]))
			}
			sent := mustJSON(withSpec)
			created, patch, err := cl.lifecycleCall(lifecycle.OperatorOperationType_TYPE_CREATE, sent)
			if err != nil {
				fail("lifecycle.create", "CREATE %s%s: %v", label, on, err)
				continue
			}
			if d := duplicates(created); len(d) > len(duplicates(sent)) {
				fail("lifecycle.create", "CREATE %s%s makes duplicates (%s): the API server would reject it", label, on, strings.Join(d, ", "))
				continue
			}
			pass("lifecycle.create", "CREATE %s%s (%d bytes sent): the patch (%d bytes) applies, no duplicate names", label, on, len(sent), len(patch))
		}
	}
}

func (cl *client) checkStatus(c *connection) {
	if !c.operatorRPCs[operator.OperatorCapability_RPC_TYPE_SET_STATUS_IN_CLUSTER] {
		return
	}
	cc, err := cl.pool.acquire()
	if err != nil {
		fail("operator.status", "%v", err)
		return
	}
	ctx, cancel := callContext()
	defer cancel()
	r, err := operator.NewOperatorClient(cc.conn).SetStatusInCluster(ctx, &operator.SetStatusInClusterRequest{Cluster: cl.cluster})
	if err != nil {
		fail("operator.status", "SetStatusInCluster: %v", err)
		return
	}
	if len(r.JsonStatus) == 0 {
		pass("operator.status", "no status")
		return
	}
	var decoded map[string]interface{}
	if err := json.Unmarshal(r.JsonStatus, &decoded); err != nil {
		fail("operator.status", "the status %s does not unmarshal into a map: %v", abbreviate(r.JsonStatus), err)
		return
	}
	pass("operator.status", "%s unmarshals into a map", abbreviate(r.JsonStatus))
}

func (cl *client) checkReconciler(c *connection) {
	if !c.reconcilerKind[reconciler.ReconcilerHooksCapability_KIND_CLUSTER] {
		return
	}
	cc, err := cl.pool.acquire()
	if err != nil {
		fail("reconciler.hooks", "%v", err)
		return
	}
	ctx, cancel := callContext()
	defer cancel()
	hooks := reconciler.NewReconcilerHooksClient(cc.conn)
	request := &reconciler.ReconcilerHooksRequest{ClusterDefinition: cl.cluster, ResourceDefinition: cl.cluster}
	for name, call := range map[string]func(context.Context, *reconciler.ReconcilerHooksRequest, ...grpc.CallOption) (*reconciler.ReconcilerHooksResult, error){
		"Pre": hooks.Pre, "Post": hooks.Post} {
		r, err := call(ctx, request)
		if err != nil {
			fail("reconciler.hooks", "%s(Cluster): %v", name, err)
			continue
		}
		pass("reconciler.hooks", "%s(Cluster): %s", name, r.Behavior)
	}
}

var mandatoryParameters = []string{"archive_command", "listen_addresses", "port", "ssl",
	"unix_socket_directories"}

func (cl *client) checkPostgres(c *connection) {
	if !c.postgresRPCs[postgres.PostgresCapability_RPC_TYPE_ENRICH_CONFIGURATION] {
		return
	}
	configs := map[string]string{
		"archive_command":         "/controller/manager wal-archive --log-destination /controller/log/postgres.json %p",
		"listen_addresses":        "*",
		"port":                    "5432",
		"ssl":                     "on",
		"unix_socket_directories": "/controller/run",
		"max_connections":         "100",
		"shared_buffers":          "256MB",
	}
	cc, err := cl.pool.acquire()
	if err != nil {
		fail("postgres.configuration", "%v", err)
		return
	}
	ctx, cancel := callContext()
	defer cancel()
	r, err := postgres.NewPostgresClient(cc.conn).EnrichConfiguration(ctx, &postgres.EnrichConfigurationRequest{
		Configs: configs, ClusterDefinition: cl.cluster,
		OperationType: &postgres.OperationType{Type: postgres.OperationType_TYPE_RECONCILE},
	})
	if err != nil {
		fail("postgres.configuration", "EnrichConfiguration: %v", err)
		return
	}
	if len(r.Configs) == 0 {
		pass("postgres.configuration", "no change")
		return
	}
	for _, key := range mandatoryParameters {
		if _, ok := r.Configs[key]; !ok {
			fail("postgres.configuration", "the answer replaces the configuration and lacks %s", key)
			return
		}
	}
	pass("postgres.configuration", "a complete map of %d parameters", len(r.Configs))
}

var metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

func (cl *client) checkMetrics(c *connection) {
	if !c.metricsRPCs[metrics.MetricsCapability_RPC_TYPE_METRICS] {
		return
	}
	cc, err := cl.pool.acquire()
	if err != nil {
		fail("metrics", "%v", err)
		return
	}
	ctx, cancel := callContext()
	defer cancel()
	m := metrics.NewMetricsClient(cc.conn)
	defined, err := m.Define(ctx, &metrics.DefineMetricsRequest{ClusterDefinition: cl.cluster})
	if err != nil {
		fail("metrics", "Define: %v", err)
		return
	}
	labels := map[string]int{}
	for _, d := range defined.Metrics {
		// The exporter reads d.ValueType.Type by field access (3.9).
		if d.ValueType == nil || d.ValueType.Type == metrics.MetricType_TYPE_UNSPECIFIED || !metricName.MatchString(d.FqName) {
			fail("metrics", "definition %q is unusable (value type %v)", d.FqName, d.ValueType)
			return
		}
		labels[d.FqName] = len(d.VariableLabels)
	}
	collected, err := m.Collect(ctx, &metrics.CollectMetricsRequest{ClusterDefinition: cl.cluster})
	if err != nil {
		fail("metrics", "Collect: %v", err)
		return
	}
	for _, s := range collected.Metrics {
		if n, ok := labels[s.FqName]; !ok || n != len(s.VariableLabels) {
			fail("metrics", "sample %q does not match a definition", s.FqName)
			return
		}
	}
	pass("metrics", "%d definitions, %d samples matching them", len(defined.Metrics), len(collected.Metrics))
}

func (cl *client) checkWal(c *connection) {
	if !c.walRPCs[wal.WALCapability_RPC_TYPE_ARCHIVE_WAL] || !c.walRPCs[wal.WALCapability_RPC_TYPE_RESTORE_WAL] {
		return
	}
	if cl.walDir == "" {
		fmt.Printf("SKIP  %-32s no -wal-dir\n", "wal")
		return
	}
	segment := filepath.Join(cl.walDir, "pg_wal", "000000010000000000000007")
	_ = os.MkdirAll(filepath.Dir(segment), 0o700)
	content := bytes.Repeat([]byte("cnpgi go client segment\n"), (16<<20)/24)
	if err := ioutil.WriteFile(segment, content, 0o600); err != nil {
		fail("wal.archive", "%v", err)
		return
	}
	cc, err := cl.pool.acquire()
	if err != nil {
		fail("wal.archive", "%v", err)
		return
	}
	w := wal.NewWALClient(cc.conn)
	ctx, cancel := callContext()
	defer cancel()
	check := true // the marker file of a fresh cluster (3.4)
	if _, err := w.Archive(ctx, &wal.WALArchiveRequest{ClusterDefinition: cl.cluster, SourceFileName: segment, CheckEmptyWalArchive: &check}); err != nil {
		fail("wal.archive", "Archive(%s): %v", segment, err)
		return
	}
	pass("wal.archive", "archived %s (check_empty_wal_archive set)", filepath.Base(segment))
	destination := filepath.Join(cl.walDir, "pg_wal", "RECOVERYXLOG")
	for _, mode := range []wal.WALRestoreRequest_Mode{wal.WALRestoreRequest_MODE_RECOVERY, wal.WALRestoreRequest_MODE_REWIND} {
		_ = os.Remove(destination)
		if _, err := w.Restore(ctx, &wal.WALRestoreRequest{ClusterDefinition: cl.cluster,
			SourceWalName: filepath.Base(segment), DestinationFileName: destination, Mode: mode}); err != nil {
			fail("wal.restore", "Restore(%s): %v", mode, err)
			return
		}
		restored, err := ioutil.ReadFile(destination)
		if err != nil || !bytes.Equal(restored, content) {
			fail("wal.restore", "Restore(%s) answered OK but %s differs (%v)", mode, destination, err)
			return
		}
		pass("wal.restore", "%s: the 16 MiB segment came back identical", mode)
	}
	_ = os.Remove(destination)
	if _, err := w.Restore(ctx, &wal.WALRestoreRequest{ClusterDefinition: cl.cluster,
		SourceWalName: "0000000100000000000000FF", DestinationFileName: destination,
		Mode: wal.WALRestoreRequest_MODE_RECOVERY}); err == nil {
		fail("wal.restore", "a segment never archived was restored")
		return
	}
	pass("wal.restore", "a segment never archived fails")
}

// checkConcurrency makes the read-only calls from a goroutine per
// connection, all at once: they answer as they do alone (1.4).
func (cl *client) checkConcurrency(c *connection) {
	type result struct {
		what string
		out  []byte
		err  error
	}
	calls := []func(cc *connection) result{
		func(cc *connection) result {
			ctx, cancel := callContext()
			defer cancel()
			_, err := identity.NewIdentityClient(cc.conn).Probe(ctx, &identity.ProbeRequest{})
			return result{what: "Probe", err: err}
		},
	}
	if fixture, ok := cl.objects["/Pod"]; ok && subscribed(c, "", "Pod", lifecycle.OperatorOperationType_TYPE_EVALUATE) {
		object := mustJSON(fixture)
		calls = append(calls, func(cc *connection) result {
			ctx, cancel := callContext()
			defer cancel()
			r, err := lifecycle.NewOperatorLifecycleClient(cc.conn).LifecycleHook(ctx, &lifecycle.OperatorLifecycleRequest{
				OperationType:     &lifecycle.OperatorOperationType{Type: lifecycle.OperatorOperationType_TYPE_EVALUATE},
				ClusterDefinition: cl.cluster, ObjectDefinition: object})
			if err != nil {
				return result{what: "EVALUATE", err: err}
			}
			out, err := applyPatch(object, r.JsonPatch)
			return result{what: "EVALUATE", out: out, err: err}
		})
	}
	if c.operatorRPCs[operator.OperatorCapability_RPC_TYPE_SET_STATUS_IN_CLUSTER] {
		calls = append(calls, func(cc *connection) result {
			ctx, cancel := callContext()
			defer cancel()
			r, err := operator.NewOperatorClient(cc.conn).SetStatusInCluster(ctx, &operator.SetStatusInClusterRequest{Cluster: cl.cluster})
			if err != nil {
				return result{what: "SetStatusInCluster", err: err}
			}
			return result{what: "SetStatusInCluster", out: r.JsonStatus}
		})
	}
	alone := make([]result, len(calls))
	for i, call := range calls {
		alone[i] = call(cl.pool.conns[0])
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var problems []string
	const rounds = 4
	for _, cc := range cl.pool.conns {
		for i, call := range calls {
			for r := 0; r < rounds; r++ {
				wg.Add(1)
				go func(cc *connection, i int, call func(*connection) result) {
					defer wg.Done()
					got := call(cc)
					if (got.err == nil) != (alone[i].err == nil) || (got.err == nil && len(got.out) > 0 && !semanticallyEqual(got.out, alone[i].out)) {
						mu.Lock()
						problems = append(problems, fmt.Sprintf("%s: %v (alone: %v)", got.what, got.err, alone[i].err))
						mu.Unlock()
					}
				}(cc, i, call)
			}
		}
	}
	wg.Wait()
	if len(problems) > 0 {
		fail("concurrency", "%d of %d calls differ from the same call alone, first: %s", len(problems), len(cl.pool.conns)*len(calls)*rounds, problems[0])
		return
	}
	pass("concurrency", "%d calls in flight on %d connections answered as alone", len(cl.pool.conns)*len(calls)*rounds, len(cl.pool.conns))
}

// checkLargeRequest sends EVALUATE a Pod of about 1 MiB (an oversized
// annotation): HTTP/2 flow control between grpc-go and the plugin.
func (cl *client) checkLargeRequest(c *connection) {
	fixture, ok := cl.objects["/Pod"]
	if !ok || !subscribed(c, "", "Pod", lifecycle.OperatorOperationType_TYPE_EVALUATE) {
		return
	}
	var pod map[string]interface{}
	_ = json.Unmarshal(mustJSON(fixture), &pod)
	metadata := pod["metadata"].(map[string]interface{})
	annotations, _ := metadata["annotations"].(map[string]interface{})
	if annotations == nil {
		annotations = map[string]interface{}{}
		metadata["annotations"] = annotations
	}
	annotations["example.com/large"] = strings.Repeat("x", 1<<20)
	object := mustJSON(pod)
	if _, _, err := cl.lifecycleCall(lifecycle.OperatorOperationType_TYPE_EVALUATE, object); err != nil {
		fail("transport.large-request", "EVALUATE of a %d-byte Pod: %v", len(object), err)
		return
	}
	pass("transport.large-request", "EVALUATE of a %d-byte Pod answered", len(object))
}

// checkTLS looks at the TLS session the operator would get: TLS 1.3 and
// ALPN h2 (current grpc-go refuses a server without it), and that TLS 1.2
// is refused (what the Go helper library's plugins do, and the SDK's
// promise).
func checkTLS(e endpoint) {
	config := e.tlsConfig.Clone()
	config.NextProtos = []string{"h2"}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	conn, err := tls.DialWithDialer(dialer, "tcp", e.address, config)
	if err != nil {
		fail("tls.session", "the operator's TLS configuration is refused: %v", err)
		return
	}
	state := conn.ConnectionState()
	conn.Close()
	if state.Version != tls.VersionTLS13 || state.NegotiatedProtocol != "h2" {
		fail("tls.session", "version %#x, ALPN %q: TLS 1.3 and h2 expected", state.Version, state.NegotiatedProtocol)
	} else {
		pass("tls.session", "TLS 1.3, ALPN h2, server certificate verified for %q", config.ServerName)
	}
	old := e.tlsConfig.Clone()
	old.MinVersion = tls.VersionTLS12
	old.MaxVersion = tls.VersionTLS12
	if conn, err := tls.DialWithDialer(dialer, "tcp", e.address, old); err == nil {
		conn.Close()
		fail("tls.minimum-version", "a TLS 1.2 client was accepted")
	} else {
		pass("tls.minimum-version", "a TLS 1.2 client is refused (%v)", err)
	}
	anonymous := e.tlsConfig.Clone()
	anonymous.Certificates = nil
	if conn, err := tls.DialWithDialer(dialer, "tcp", e.address, anonymous); err == nil {
		// TLS 1.3 reports the refusal of the client certificate on the first read.
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
		var netErr net.Error
		if err == nil || (errors.As(err, &netErr) && netErr.Timeout()) {
			fail("tls.client-certificate", "a client without a certificate was not refused")
			return
		}
		pass("tls.client-certificate", "a client without a certificate is refused (%v)", err)
	} else {
		pass("tls.client-certificate", "a client without a certificate is refused (%v)", err)
	}
}

func main() {
	dataDir := flag.String("data", "", "directory of cluster.json, pod.json, job.json")
	socket := flag.String("socket", "", "the plugin's Unix socket")
	address := flag.String("address", "", "the plugin's TCP address (mutual TLS)")
	clientCert := flag.String("client-cert", "", "the operator's client certificate")
	clientKey := flag.String("client-key", "", "its key")
	serverCert := flag.String("server-cert", "", "the plugin's certificate, pinned")
	serverName := flag.String("server-name", "", "the Service name (default: the first label of the host)")
	parametersJSON := flag.String("parameters", "{}", "the plugin's parameters in spec.plugins[], as a JSON object")
	walDir := flag.String("wal-dir", "", "a directory the plugin can read and write: enables WAL archive/restore")
	connections := flag.Int("connections", 3, "pooled connections (the operator keeps up to 5)")
	flag.Parse()
	if *dataDir == "" || (*socket == "") == (*address == "") || *connections < 1 {
		fmt.Fprintln(os.Stderr, "usage: -data DIR and exactly one of -socket or -address (see the source)")
		os.Exit(2)
	}
	var parameters map[string]string
	if err := json.Unmarshal([]byte(*parametersJSON), &parameters); err != nil {
		fmt.Fprintf(os.Stderr, "-parameters: %v\n", err)
		os.Exit(2)
	}

	e := endpoint{socket: *socket, address: *address}
	if *address != "" {
		name := *serverName
		if name == "" {
			host, _, _ := net.SplitHostPort(*address)
			name = strings.SplitN(host, ".", 2)[0]
		}
		config, err := operatorTLS(*clientCert, *clientKey, *serverCert, name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		e.tlsConfig = config
		checkTLS(e)
	}

	p := &pool{}
	for i := 0; i < *connections; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cc, err := e.dial(ctx)
		cancel()
		if err != nil {
			fail("handshake", "connection %d: %v", i+1, err)
			break
		}
		defer cc.Close()
		c, err := handshake(cc)
		if err != nil {
			fail("handshake", "connection %d: %v", i+1, err)
			break
		}
		if len(p.conns) > 0 && !reflect.DeepEqual(c.services, p.conns[0].services) {
			fail("handshake", "connection %d advertises other services than connection 1", i+1)
		}
		p.conns = append(p.conns, c)
	}
	if len(p.conns) == *connections {
		first := p.conns[0]
		pass("handshake", "%d connections: %s %s, %d services, capabilities of each in the operator's order, Probe", len(p.conns), first.metadata.Name, first.metadata.Version, len(first.services))
		cl := &client{
			pool:       p,
			cluster:    clusterFor(readJSON(*dataDir, "cluster.json"), first, parameters),
			objects:    map[string]map[string]interface{}{"/Pod": readJSON(*dataDir, "pod.json"), "batch/Job": readJSON(*dataDir, "job.json")},
			parameters: parameters,
			walDir:     *walDir,
		}
		cl.checkLifecycle(first)
		cl.checkStatus(first)
		cl.checkReconciler(first)
		cl.checkPostgres(first)
		cl.checkMetrics(first)
		cl.checkWal(first)
		cl.checkConcurrency(first)
		cl.checkLargeRequest(first)
	}
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}
