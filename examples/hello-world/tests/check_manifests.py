#!/usr/bin/env python3
"""Checks the hello-world Kubernetes manifests.

  check_manifests.py EXAMPLE_DIR

1. Every file of kubernetes/ is valid YAML, every document a Kubernetes
   object (apiVersion, kind, metadata.name).
2. The pieces fit together the way CloudNativePG needs them (each check
   names the rule it enforces):
   - the Service carries the label cnpg.io/pluginName equal to the plugin's
     metadata name (read from src/hello_world.h), and the annotations
     cnpg.io/pluginClientSecret, cnpg.io/pluginServerSecret, cnpg.io/pluginPort;
   - the Secrets named there are produced by the Certificates, signed by the
     Issuer of the kustomization;
   - the server certificate has the Service's short name as a DNS name and
     server auth usage; the client certificate has client auth;
   - the port annotation is the port the Deployment's container serves and
     the Service targets;
   - the Deployment starts the binary with `plugin` and the four flags of a
     TCP plugin, pointing into the mounted Secrets;
   - the sample Cluster enables this plugin with labels/annotations that are
     JSON objects of strings and a valid image pull policy.
3. With kubectl: `kubectl kustomize` renders the kustomization (offline);
   `kubectl apply --dry-run=client` runs only when a cluster is reachable
   (it needs the API server's schemas), otherwise it says it is skipped.
Exit code 0 when everything holds, 1 with one line per problem otherwise.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import yaml

problems = []


def check(condition, message):
    if not condition:
        problems.append(message)
    return condition


def load(path):
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    for d in docs:
        check(isinstance(d, dict), f"{path}: a document is not a mapping")
    return docs


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    example = sys.argv[1]
    kdir = os.path.join(example, "kubernetes")

    with open(os.path.join(example, "src", "hello_world.h"), encoding="utf-8") as f:
        m = re.search(r'kPluginName\s*=\s*"([^"]+)"', f.read())
    plugin_name = m.group(1) if m else None
    check(plugin_name, "src/hello_world.h: kPluginName not found")

    objects = {}  # kind -> list of (file, object)
    for name in sorted(os.listdir(kdir)):
        if not name.endswith((".yaml", ".yml")):
            continue
        path = os.path.join(kdir, name)
        try:
            docs = load(path)
        except yaml.YAMLError as e:
            problems.append(f"{path}: not valid YAML: {e}")
            continue
        for d in docs:
            if not isinstance(d, dict):
                continue
            kind = d.get("kind")
            if kind != "Kustomization":
                check(d.get("apiVersion") and kind and (d.get("metadata") or {}).get("name"),
                      f"{name}: object without apiVersion, kind or metadata.name")
            objects.setdefault(kind, []).append((name, d))

    def one(kind):
        found = objects.get(kind, [])
        check(len(found) == 1, f"expected one {kind}, found {len(found)}")
        return found[0][1] if found else {}

    kustomization = one("Kustomization")
    service = one("Service")
    deployment = one("Deployment")
    issuer = one("Issuer")
    cluster = one("Cluster")
    certificates = {c["spec"].get("secretName"): c for _, c in objects.get("Certificate", [])}
    check(len(certificates) == 2, "expected two Certificates with distinct secretName")

    # The kustomization lists every manifest but the sample Cluster.
    resources = set(kustomization.get("resources", []))
    for kind, items in objects.items():
        for file, _ in items:
            if kind in ("Kustomization", "Cluster"):
                check(file not in resources, f"kustomization must not include {file}")
            else:
                check(file in resources, f"kustomization does not include {file}")
    check(kustomization.get("namespace") == "cnpg-system",
          "the plugin goes into the operator's namespace (cnpg-system): "
          "the operator only discovers plugin Services there")

    # Service: discovery label and annotations (SEMANTICS 1.2).
    meta = service.get("metadata", {})
    labels = meta.get("labels", {})
    annotations = meta.get("annotations", {})
    check(labels.get("cnpg.io/pluginName") == plugin_name,
          f"Service label cnpg.io/pluginName must be the plugin name {plugin_name}")
    for key in ("cnpg.io/pluginClientSecret", "cnpg.io/pluginServerSecret", "cnpg.io/pluginPort"):
        check(isinstance(annotations.get(key), str) and annotations.get(key),
              f"Service annotation {key} missing (annotations are strings)")
    port = annotations.get("cnpg.io/pluginPort", "")
    check(str(port).isdigit(), f"cnpg.io/pluginPort {port!r} is not a decimal port")
    port = int(port) if str(port).isdigit() else -1

    # Certificates: the Secrets named by the Service, from the Issuer.
    server = certificates.get(annotations.get("cnpg.io/pluginServerSecret"), {}).get("spec")
    client = certificates.get(annotations.get("cnpg.io/pluginClientSecret"), {}).get("spec")
    check(server, "no Certificate produces the Secret of cnpg.io/pluginServerSecret")
    check(client, "no Certificate produces the Secret of cnpg.io/pluginClientSecret")
    issuer_name = issuer.get("metadata", {}).get("name")
    check("selfSigned" in issuer.get("spec", {}), "the Issuer should be selfSigned")
    for what, spec in (("server", server), ("client", client)):
        if not spec:
            continue
        ref = spec.get("issuerRef", {})
        check(ref.get("name") == issuer_name and ref.get("kind", "Issuer") == "Issuer",
              f"the {what} Certificate is not issued by Issuer {issuer_name}")
    if server:
        service_name = meta.get("name")
        check(service_name in server.get("dnsNames", []),
              f"the server certificate must carry the Service name {service_name!r} as a DNS "
              "name: the operator verifies the short Service name")
        check("server auth" in server.get("usages", []), "server certificate without server auth")
    if client:
        check("client auth" in client.get("usages", []), "client certificate without client auth")

    # Deployment: the container, its flags, its mounts and port.
    pod = deployment.get("spec", {}).get("template", {}).get("spec", {})
    containers = pod.get("containers", [])
    check(len(containers) == 1, "the Deployment should run one container")
    container = containers[0] if containers else {}
    args = container.get("args", [])
    check(args[:1] == ["plugin"], "the container arguments start with the subcommand `plugin`")
    flags = {}
    for a in args[1:]:
        if a.startswith("--") and "=" in a:
            k, v = a[2:].split("=", 1)
            flags[k] = v
    for flag in ("server-cert", "server-key", "client-cert", "server-address"):
        check(flag in flags, f"the container needs --{flag}=...")
    check(flags.get("server-address", "").endswith(f":{port}"),
          f"--server-address {flags.get('server-address')!r} does not listen on cnpg.io/pluginPort")
    check(any(p.get("containerPort") == port for p in container.get("ports", [])),
          "the container does not declare the plugin port")
    check(any(p.get("targetPort") in (port, "grpc") for p in service.get("spec", {}).get("ports", [])),
          "the Service does not target the plugin port")
    selector = service.get("spec", {}).get("selector", {})
    pod_labels = deployment.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
    check(selector and all(pod_labels.get(k) == v for k, v in selector.items()),
          "the Service selector does not select the Deployment's Pods")
    volumes = {v.get("name"): (v.get("secret") or {}).get("secretName") for v in pod.get("volumes", [])}
    mounts = {m.get("mountPath"): volumes.get(m.get("name")) for m in container.get("volumeMounts", [])}
    for flag, secret in (("server-cert", annotations.get("cnpg.io/pluginServerSecret")),
                         ("server-key", annotations.get("cnpg.io/pluginServerSecret")),
                         ("client-cert", annotations.get("cnpg.io/pluginClientSecret"))):
        path = flags.get(flag, "")
        check(mounts.get(os.path.dirname(path)) == secret,
              f"--{flag}={path} is not in the mounted Secret {secret}")
    check(pod.get("securityContext", {}).get("runAsNonRoot") is True,
          "the Pod should run as non-root")

    # The sample Cluster.
    entries = [p for p in cluster.get("spec", {}).get("plugins", []) if p.get("name") == plugin_name]
    check(len(entries) == 1, f"the sample Cluster does not enable {plugin_name}")
    params = entries[0].get("parameters", {}) if entries else {}
    for key in ("labels", "annotations"):
        try:
            value = json.loads(params.get(key, ""))
            check(isinstance(value, dict) and all(isinstance(v, str) for v in value.values()),
                  f"sample Cluster parameter {key} must be a JSON object of strings")
        except ValueError as e:
            problems.append(f"sample Cluster parameter {key} is not JSON: {e}")
    check(params.get("imagePullPolicy", "IfNotPresent") in ("Always", "IfNotPresent", "Never"),
          "sample Cluster imagePullPolicy is not a pull policy")

    # kubectl, when there is one.
    kubectl = shutil.which("kubectl")
    if not kubectl:
        print("kubectl not found: `kubectl kustomize` and `kubectl apply --dry-run=client` skipped")
    else:
        r = subprocess.run([kubectl, "kustomize", kdir], capture_output=True, text=True, timeout=60)
        if check(r.returncode == 0, f"kubectl kustomize failed: {r.stderr.strip()}"):
            rendered = [d for d in yaml.safe_load_all(r.stdout) if d]
            check(all(d.get("metadata", {}).get("namespace") == "cnpg-system" for d in rendered),
                  "kubectl kustomize: not every object lands in cnpg-system")
            print(f"kubectl kustomize: {len(rendered)} objects rendered")
        reach = subprocess.run([kubectl, "version", "--request-timeout=5s", "-o", "json"],
                               capture_output=True, text=True, timeout=30)
        if reach.returncode == 0 and "serverVersion" in reach.stdout:
            for target in (["-k", kdir], ["-f", os.path.join(kdir, "cluster-example.yaml")]):
                r = subprocess.run([kubectl, "apply", "--dry-run=client", "--request-timeout=20s"]
                                   + target, capture_output=True, text=True, timeout=60)
                check(r.returncode == 0,
                      f"kubectl apply --dry-run=client {' '.join(target)}: {r.stderr.strip()}")
            print("kubectl apply --dry-run=client: done")
        else:
            print("kubectl apply --dry-run=client skipped: no reachable Kubernetes API server "
                  "(it needs one for the resource schemas, cert-manager and CloudNativePG CRDs)")

    for p in problems:
        print(f"manifest problem: {p}")
    if problems:
        return 1
    print(f"manifests OK: {sum(len(v) for v in objects.values())} documents checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
