#!/usr/bin/env bash
# Offline validation of the Kubernetes manifests under deploy/.
#
#   1. kubectl kustomize each deploy/overlays/<name>  ->  build/k8s/<name>.yaml
#   2. kubernetes-validate -k 1.32.0 --strict on each rendering (Strimzi/CNPG CRs only warn:
#      their schemas are not available offline)
#   3. project checks on each rendering (hardening, probes, versions, per-overlay rules, network policies =
#      the call graph (CmsService.calls),
#      identities: the trusted issuers load, projected tokens and the JWKS RBAC; required fields
#      of the Strimzi/CNPG CRs)
#   4. yamllint -s on deploy/
#
# Steps 1-3 are skipped, with a message, when kubectl is not installed.
# Usage: tools/k8s-validate.sh            (from anywhere; exits non-zero on the first failure)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

K8S_VERSION="${K8S_VERSION:-1.32.0}"
VENV_BIN="${VENV_BIN:-$ROOT/.venv/bin}"
OUT_DIR="$ROOT/build/k8s"

for tool in kubernetes-validate yamllint python; do
  if [[ ! -x "$VENV_BIN/$tool" ]]; then
    echo "k8s-validate: $VENV_BIN/$tool not found; create the venv first" >&2
    exit 2
  fi
done

if command -v kubectl >/dev/null 2>&1; then
  mkdir -p "$OUT_DIR"
  rendered=()
  for dir in deploy/overlays/*/; do
    overlay="$(basename "$dir")"
    out="$OUT_DIR/$overlay.yaml"
    echo "== render $overlay -> ${out#"$ROOT"/}"
    kubectl kustomize "$dir" >"$out"
    echo "== kubernetes-validate $overlay (k8s $K8S_VERSION, strict)"
    # Identical "no schema" warnings (one per CR) are printed once; failures keep the exit code.
    "$VENV_BIN/kubernetes-validate" -k "$K8S_VERSION" --strict --quiet "$out" 2>&1 | awk '!seen[$0]++'
    rendered+=("$out")
  done

  echo "== project checks"
  "$VENV_BIN/python" - "${rendered[@]}" <<'PY'
import json
import os
import re
import sys

import yaml
from importlib.metadata import entry_points
from pydantic import ValidationError

from cms_platform.identity import TrustedIssuer
from cms_platform.service import CmsService

SERVICES = {
    "calculation": 50051,
    "casework": 50052,
    "hmrc-gateway": 50053,
    "dwp-gateway": 50054,
    "cra-gateway": 50055,
}
GATEWAYS = {"hmrc-gateway", "dwp-gateway", "cra-gateway"}
# Namespaces with this label may call casework's gRPC port (deploy/README.md "How to admit a calling team").
CALLER_LABEL = {"cms.gov.uk/calls-casework": "true"}
# Pods of namespace cms that are not services (Kafka, Postgres and its pooler): no service port admits them.
OTHER_PODS = [{"strimzi.io/cluster": "cms-kafka"}, {"cnpg.io/cluster": "cms-pg"},
              {"cnpg.io/cluster": "cms-pg", "cnpg.io/poolerName": "cms-pg-pooler-rw"}]


def service_class(svc):
    """The CmsService subclass behind the `cms-<svc>` command (what the image runs)."""
    (ep,) = entry_points(group="console_scripts", name=f"cms-{svc}")
    module = __import__(ep.module, fromlist=["_"])
    (cls,) = [c for c in vars(module).values()
              if isinstance(c, type) and issubclass(c, CmsService) and c.name == svc]
    return cls


# Who calls whom, from the code (CmsService.calls: the audiences a service needs tokens for, i.e. the clients it
# builds): a pod gets a projected token for exactly those audiences, and the network policies open exactly those
# service-to-service edges.
CALLS = {svc: set(service_class(svc).calls) for svc in SERVICES}
CALLS = {svc: callees for svc, callees in CALLS.items() if callees}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
# Every topic the services publish to (the national runs' work topic is not an event stream, hence its own name).
TOPICS = {f"cms.{t}.events.v1" for t in ("calculation", "casework", "casework.money", "hmrc", "dwp", "cra")} | {
    "cms.casework.national-runs.v1"
}
errors = []


def check(cond, where, msg):
    if not cond:
        errors.append(f"{where}: {msg}")


def prefix(svc):
    return svc.upper().replace("-", "_") + "_"


def env_map(container):
    return {e["name"]: e for e in container.get("env", [])}


def selects(selector, labels):
    """A Kubernetes label selector (matchLabels, matchExpressions) against a label set; {} selects everything."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        has, value, values = e["key"] in labels, labels.get(e["key"]), e.get("values", [])
        ok = {"In": has and value in values, "NotIn": not has or value not in values,
              "Exists": has, "DoesNotExist": not has}[e["operator"]]
        if not ok:
            return False
    return True


def opens_port(rule, port, name="grpc"):
    ports = rule.get("ports") or []
    return not ports or any(p.get("port") in (port, name) for p in ports)


def peers(rule, direction, pod_labels):
    """Who a rule's peers are: a service name, "pod:<labels>" for another pod of namespace cms,
    "namespaces:<selector>" for pods elsewhere, "ip:<cidr>", or "anyone" (no peers listed)."""
    found = set()
    listed = rule.get("from" if direction == "Ingress" else "to")
    if not listed:
        return {"anyone"}
    for peer in listed:
        if "ipBlock" in peer:
            found.add(f"ip:{peer['ipBlock']['cidr']}")
            continue
        ns = peer.get("namespaceSelector")
        if ns is not None and ns != {"matchLabels": {"kubernetes.io/metadata.name": "cms"}}:
            found.add(f"namespaces:{json.dumps(ns, sort_keys=True)}+{json.dumps(peer.get('podSelector', {}), sort_keys=True)}")
            continue
        sel = peer.get("podSelector", {})
        found |= {svc for svc, labels in pod_labels.items() if selects(sel, labels)}
        found |= {f"pod:{json.dumps(o, sort_keys=True)}" for o in OTHER_PODS if selects(sel, o)}
    return found


def network_edges(policies, pod_labels):
    """From the rendered NetworkPolicies: who may reach each service's gRPC port (ingress side), and which services'
    gRPC ports each service may reach (egress side)."""
    callers = {svc: set() for svc in SERVICES}
    reaches = {svc: set() for svc in SERVICES}
    for pol in policies.values():
        spec = pol["spec"]
        types = spec.get("policyTypes", ["Ingress"])
        for svc, labels in pod_labels.items():
            if not selects(spec.get("podSelector", {}), labels):
                continue
            if "Ingress" in types:
                for rule in spec.get("ingress", []):
                    if opens_port(rule, SERVICES[svc]):
                        callers[svc] |= peers(rule, "Ingress", pod_labels)
            if "Egress" in types:
                for rule in spec.get("egress", []):
                    found = peers(rule, "Egress", pod_labels)
                    # "anyone" and address ranges may include the pods' own addresses: count every service.
                    wide = any(f == "anyone" or f.startswith("ip:") for f in found)
                    for target in set(SERVICES) if wide else found & set(SERVICES):
                        if opens_port(rule, SERVICES[target]):
                            reaches[svc].add(target)
    return callers, reaches


for path in sys.argv[1:]:
    overlay = os.path.splitext(os.path.basename(path))[0]
    with open(path) as fh:
        docs = [d for d in yaml.safe_load_all(fh) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    deployments = by_kind.get("Deployment", {})
    hpas = by_kind.get("HorizontalPodAutoscaler", {})
    sas = by_kind.get("ServiceAccount", {})

    check(set(deployments) == set(SERVICES), overlay, f"Deployments {sorted(deployments)} != {sorted(SERVICES)}")
    for d in docs:
        if d["kind"] not in CLUSTER_SCOPED:
            check(d["metadata"].get("namespace") == "cms", f"{overlay} {d['kind']}/{d['metadata']['name']}",
                  "not in namespace cms")

    # Identities: the issuers every service trusts must load as the services load them.
    identity_maps = [c for n, c in by_kind.get("ConfigMap", {}).items() if n.startswith("cms-identity")]
    check(len(identity_maps) == 1, overlay, "needs one cms-identity ConfigMap")
    issuers = []
    try:
        issuers = [TrustedIssuer.model_validate(i) for i in json.loads(identity_maps[0]["data"]["issuers"])]
    except (IndexError, KeyError, ValueError, ValidationError) as exc:
        check(False, overlay, f"cms-identity issuers do not load: {exc}")
    clusters = [i for i in issuers if i.subjects == "kubernetes"]
    check(len(clusters) == 1 and clusters[0].namespaces == ("cms",), overlay,
          "one Kubernetes issuer, trusting ServiceAccounts of namespace cms only")
    check(any("staff" in i.kinds for i in issuers), overlay, "an issuer for staff tokens")
    bindings = [b for b in by_kind.get("ClusterRoleBinding", {}).values()
                if b["roleRef"]["name"] == "system:service-account-issuer-discovery"]
    bound = {(s["name"], s.get("namespace")) for b in bindings for s in b.get("subjects", [])
             if s["kind"] == "ServiceAccount"}
    check({(svc, "cms") for svc in SERVICES} <= bound, overlay,
          "every service's ServiceAccount may read the cluster issuer's JWKS (system:service-account-issuer-discovery)")

    for name, dep in deployments.items():
        w = f"{overlay} Deployment/{name}"
        pod = dep["spec"]["template"]["spec"]
        labels = dep["spec"]["template"]["metadata"]["labels"]
        port = SERVICES[name]
        check(pod.get("automountServiceAccountToken") is False, w, "pod must not automount the SA token")
        sa = sas.get(pod.get("serviceAccountName"))
        check(sa is not None and sa.get("automountServiceAccountToken") is False, w,
              "needs its own ServiceAccount with automountServiceAccountToken false")
        check(pod.get("terminationGracePeriodSeconds") == 15, w, "terminationGracePeriodSeconds must be 15")
        psc = pod.get("securityContext", {})
        check(psc.get("runAsNonRoot") is True and psc.get("runAsUser") == 10001, w, "pod must run as uid 10001")
        check(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", w, "seccomp RuntimeDefault")
        inits = pod.get("initContainers", [])
        check([c["name"] for c in inits] == ["migrate"], w, "expects one initContainer 'migrate'")
        for c in inits + pod["containers"]:
            cw = f"{w} container {c['name']}"
            sc = c.get("securityContext", {})
            check(sc.get("allowPrivilegeEscalation") is False, cw, "allowPrivilegeEscalation must be false")
            check(sc.get("readOnlyRootFilesystem") is True, cw, "readOnlyRootFilesystem must be true")
            check(sc.get("capabilities", {}).get("drop") == ["ALL"], cw, "capabilities must drop ALL")
            res = c.get("resources", {})
            for kind in ("requests", "limits"):
                check({"cpu", "memory"} <= set(res.get(kind, {})), cw, f"needs cpu+memory {kind}")
            # dev: cms/<svc>:<tag> (a local build); prod: <registry>/cms/<svc>:<tag>@sha256:<digest>, the digest
            # being what runs (the tag only says which release it is).
            image = c["image"]
            ref = re.fullmatch(rf"(?:(?P<registry>[^/]+)/)?cms/{name}:(?P<tag>\w[\w.-]{{0,127}})"
                               r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?", image)
            tag = ref["tag"] if ref else ""
            check(ref is not None and tag != "latest", cw, f"image {image!r} must be [<registry>/]cms/{name}:<tag>")
            if overlay == "prod":
                check(ref is not None and ref["registry"] and ref["digest"], cw,
                      f"prod image {image!r} must name a registry and a digest (<registry>/cms/{name}:<tag>@sha256:...)")
            check(labels.get("app.kubernetes.io/version") == tag, cw,
                  f"app.kubernetes.io/version {labels.get('app.kubernetes.io/version')!r} != image tag {tag!r}")
            check(c.get("command") == [f"cms-{name}"], cw, f"command must be [cms-{name}]")
        mig = inits[0] if inits else {}
        check(mig.get("args") == ["migrate"], w, "initContainer must run 'migrate'")
        check(prefix(name) + "DATABASE_URL" in env_map(mig), w, "initContainer needs the DATABASE_URL")

        app = pod["containers"][0]
        check(app["name"] == name and app.get("args") == ["serve"], w, "first container must be the server (serve)")
        ports = {p["name"]: p["containerPort"] for p in app.get("ports", [])}
        check(ports == {"grpc": port, "metrics": 9464}, w, f"ports {ports}")
        for probe, health in (("startupProbe", "liveness"), ("livenessProbe", "liveness"),
                              ("readinessProbe", "readiness")):
            g = app.get(probe, {}).get("grpc", {})
            check(g.get("port") == port and g.get("service") == health, w,
                  f"{probe} must be grpc port {port} service {health!r}")
        env = env_map(app)
        p = prefix(name)
        for var, want in ((p + "GRPC_PORT", str(port)), (p + "METRICS_PORT", "9464"),
                          (p + "KAFKA_BOOTSTRAP_SERVERS", "cms-kafka-kafka-bootstrap:9092"),
                          (p + "MIGRATE_ON_START", "false"),
                          (p + "ENVIRONMENT", "development" if overlay == "dev" else "production")):
            check(env.get(var, {}).get("value") == want, w, f"{var} must be {want!r}")
        check(env.get(p + "DATABASE_URL", {}).get("valueFrom", {}).get("secretKeyRef")
              == {"name": f"{name}-db", "key": "url"}, w, "DATABASE_URL must come from Secret <service>-db/url")
        ref = env.get(p + "IDENTITY_ISSUERS", {}).get("valueFrom", {}).get("configMapKeyRef", {})
        check(ref.get("name", "").startswith("cms-identity") and ref.get("key") == "issuers", w,
              "IDENTITY_ISSUERS from the cms-identity ConfigMap, key issuers")
        check(not any("SIGNING_KEY" in e for e in env), w, "a service holds no signing key")
        # Tokens: projected, short-lived, read-only, in the server container only; one audience per service called.
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        mounts = {m["name"]: m for m in app.get("volumeMounts", [])}
        sa_tokens = {}
        for vname, vol in volumes.items():
            for src in vol.get("projected", {}).get("sources", []):
                tok = src.get("serviceAccountToken")
                if tok is None:
                    continue
                sa_tokens.setdefault(vname, []).append(tok)
                check(600 <= tok.get("expirationSeconds", 0) <= 3600, w,
                      f"volume {vname}: projected tokens expire within 10-60 minutes")
                check(vname in mounts and mounts[vname].get("readOnly") is True, w,
                      f"volume {vname}: mounted read-only in the server container")
        for c in inits:
            check(not set(sa_tokens) & {m["name"] for m in c.get("volumeMounts", [])}, w,
                  f"initContainer {c['name']} gets no token")
        outbound = {t["audience"] for toks in sa_tokens.values() for t in toks if "audience" in t}
        check(outbound == CALLS.get(name, set()), w,
              f"projected token audiences {sorted(outbound)} != the services it calls {sorted(CALLS.get(name, []))}")
        token_dir = env.get(p + "IDENTITY_TOKEN_DIR", {}).get("value")
        if CALLS.get(name):
            holders = [v for v, toks in sa_tokens.items() if any("audience" in t for t in toks)]
            check(len(holders) == 1 and token_dir == mounts.get(holders[0], {}).get("mountPath")
                  and all(t["path"] == t["audience"] for t in sa_tokens.get(holders[0], [])), w,
                  "IDENTITY_TOKEN_DIR is the mount of one volume with a token per audience at <audience>")
        else:
            check(token_dir is None, w, "calls no service: no IDENTITY_TOKEN_DIR")
        # Each issuer's key files (and, for the cluster issuer, the API token and CA) are mounted where it says.
        mounted = {m["mountPath"].rstrip("/"): m["name"] for m in app.get("volumeMounts", [])}
        for issuer in issuers:
            for f in (issuer.jwks_file, issuer.jwks_token_file, issuer.jwks_ca_file):
                if f is not None:
                    check(str(f.parent) in mounted, w, f"{f} (issuer {issuer.issuer}) is not mounted")
            if issuer.jwks_token_file is not None and str(issuer.jwks_token_file.parent) in mounted:
                vol = volumes.get(mounted[str(issuer.jwks_token_file.parent)], {})
                srcs = vol.get("projected", {}).get("sources", [])
                check(any(s.get("serviceAccountToken", {}).get("path") == issuer.jwks_token_file.name
                          and "audience" not in s["serviceAccountToken"] for s in srcs), w,
                      f"{issuer.jwks_token_file} must be a projected token for the API server")
        check(env.get("OTEL_SERVICE_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
              == "metadata.labels['app.kubernetes.io/name']", w, "OTEL_SERVICE_NAME from the name label")
        if name in GATEWAYS:
            admin = env.get(p + "SCENARIO_ADMIN_ENABLED", {}).get("value")
            want = {"dev": "true"}.get(overlay, "false")
            check(admin == want, w, f"{p}SCENARIO_ADMIN_ENABLED is {admin!r}, want {want!r} in {overlay}")
        if overlay == "prod":
            check("OTEL_EXPORTER_OTLP_ENDPOINT" in env, w, "prod exports OTLP (components/otel)")
            spread = {(t["topologyKey"], t["whenUnsatisfiable"]) for t in pod.get("topologySpreadConstraints", [])
                      if t.get("labelSelector") == {"matchLabels": {"app.kubernetes.io/name": name}}
                      and t.get("maxSkew") == 1}
            check(spread == {("topology.kubernetes.io/zone", "DoNotSchedule"),
                             ("kubernetes.io/hostname", "ScheduleAnyway")}, w,
                  "prod spreads its pods over zones (DoNotSchedule) and nodes (ScheduleAnyway)")

        hpa = hpas.get(name)
        if overlay == "dev":
            check(hpa is None, w, "dev has no HPA")
            check(dep["spec"].get("replicas") == 1, w, "dev runs 1 replica")
        if hpa is not None:
            check("replicas" not in dep["spec"], w, "an HPA owns the replica count: drop spec.replicas")
        if overlay == "prod":
            n = hpa["spec"]["minReplicas"] if hpa else dep["spec"].get("replicas", 1)
            check(n >= 2, w, f"prod needs >= 2 replicas, has {n}")
        pdb = by_kind.get("PodDisruptionBudget", {}).get(name)
        if pdb is not None:
            check(pdb["spec"].get("maxUnavailable") == 1
                  and pdb["spec"].get("unhealthyPodEvictionPolicy") == "AlwaysAllow", w,
                  "PDB must be maxUnavailable 1 with unhealthyPodEvictionPolicy AlwaysAllow")
        else:
            check(overlay == "dev", w, "missing PodDisruptionBudget")
        svc = by_kind.get("Service", {}).get(name)
        check(svc is not None and {(p["name"], p["port"]) for p in svc["spec"]["ports"]}
              == {("grpc", port), ("metrics", 9464)}, w, "Service must expose grpc and metrics")
        # gRPC load balancing: a headless Service resolves to every pod; callers use gRPC's DNS resolver on it.
        check(svc is not None and svc["spec"].get("clusterIP") == "None", w,
              "Service must be headless (clusterIP: None) so callers balance over the pods")
        for callee in CALLS.get(name, ()):
            var, want = p + prefix(callee) + "ADDRESS", f"dns:///{callee}:{SERVICES[callee]}"
            check(env.get(var, {}).get("value") == want, w, f"{var} must be {want!r} (round_robin over the pods)")

    for name, hpa in hpas.items():
        check(name in ("calculation", "casework"), f"{overlay} HPA/{name}", "only calculation and casework autoscale")

    # Connections: every pod at full scale (HPA maximum, or replicas, plus a rollout's surge) holding its whole pool
    # (size + overflow) and one for its migrate run must fit the budget, and the budget PostgreSQL's max_connections
    # less the superuser reserve and 20 for CNPG and operators.
    demand = {}
    for name, dep in deployments.items():
        env = env_map(dep["spec"]["template"]["spec"]["containers"][0])
        try:
            pool = int(env[prefix(name) + "DATABASE_POOL_SIZE"]["value"])
            pool += int(env[prefix(name) + "DATABASE_MAX_OVERFLOW"]["value"])
        except (KeyError, ValueError):
            check(False, f"{overlay} Deployment/{name}", "needs DATABASE_POOL_SIZE and DATABASE_MAX_OVERFLOW")
            continue
        hpa = hpas.get(name)
        pods = hpa["spec"]["maxReplicas"] if hpa else dep["spec"].get("replicas", 1)
        surge = dep["spec"].get("strategy", {}).get("rollingUpdate", {}).get("maxSurge", 1)
        check(isinstance(surge, int), f"{overlay} Deployment/{name}", "maxSurge must be a number of pods")
        demand[name] = (pods + (surge if isinstance(surge, int) else 0)) * (pool + 1)
    pg = by_kind.get("Cluster", {}).get("cms-pg")
    pg_params = (pg or {}).get("spec", {}).get("postgresql", {}).get("parameters", {})
    budget = int((pg or {}).get("metadata", {}).get("annotations", {}).get("cms.gov.uk/connection-budget", 0))
    ceiling = int(pg_params.get("max_connections", 100)) - int(pg_params.get("superuser_reserved_connections", 3)) - 20
    check(0 < budget <= ceiling, overlay,
          f"cms-pg's cms.gov.uk/connection-budget {budget} must be set and at most {ceiling} (max_connections less reserves)")
    check(sum(demand.values()) <= budget, overlay,
          f"the services may open {sum(demand.values())} connections at full scale ({demand}), over the budget {budget}")
    poolers = by_kind.get("Pooler", {})
    if overlay == "prod":
        # Backups: WAL archived by the Barman Cloud Plugin to an ObjectStore, and a schedule of base backups.
        archivers = [p for p in (pg or {}).get("spec", {}).get("plugins", [])
                     if p.get("name") == "barman-cloud.cloudnative-pg.io" and p.get("isWALArchiver")]
        store = by_kind.get("ObjectStore", {}).get(
            (archivers or [{}])[0].get("parameters", {}).get("barmanObjectName", ""), {})
        check(len(archivers) == 1 and store.get("spec", {}).get("configuration", {}).get("destinationPath")
              and store["spec"].get("retentionPolicy"), overlay,
              "prod: cms-pg archives WAL through the barman-cloud plugin to an ObjectStore with a retention policy")
        check(any(b["spec"].get("cluster", {}).get("name") == "cms-pg" and b["spec"].get("method") == "plugin"
                  and b["spec"].get("pluginConfiguration", {}).get("name") == "barman-cloud.cloudnative-pg.io"
                  for b in by_kind.get("ScheduledBackup", {}).values()), overlay,
              "prod: a ScheduledBackup of cms-pg through the barman-cloud plugin")
        pooler = poolers.get("cms-pg-pooler-rw", {}).get("spec", {})
        bouncer = pooler.get("pgbouncer", {})
        params = bouncer.get("parameters", {})
        check(pooler.get("cluster", {}).get("name") == "cms-pg" and pooler.get("type") == "rw"
              and bouncer.get("poolMode") == "session", overlay,
              "prod needs Pooler cms-pg-pooler-rw (rw, session mode) in front of cms-pg")
        check(int(params.get("max_client_conn", 100)) >= budget
              and int(params.get("default_pool_size", 20)) >= max(demand.values(), default=0), overlay,
              "the pooler's max_client_conn must cover the budget and default_pool_size the largest service's demand")

    # Strimzi / CloudNativePG CRs cannot be schema-checked offline: assert what the apps rely on.
    kafka = by_kind.get("Kafka", {}).get("cms-kafka")
    check(kafka is not None, overlay, "missing Kafka cms-kafka")
    if kafka:
        listeners = {(l["name"], l["port"]) for l in kafka["spec"]["kafka"]["listeners"]}
        check(("plain", 9092) in listeners, overlay, "Kafka needs the plain listener on 9092")
    pools = by_kind.get("KafkaNodePool", {})
    check(pools and all(p["metadata"]["labels"].get("strimzi.io/cluster") == "cms-kafka" for p in pools.values()),
          overlay, "KafkaNodePools must carry strimzi.io/cluster: cms-kafka")
    topics = by_kind.get("KafkaTopic", {})
    check(set(topics) == TOPICS, overlay, f"topics {sorted(topics)}")
    for t in topics.values():
        tw = f"{overlay} KafkaTopic/{t['metadata']['name']}"
        check(t["metadata"]["labels"].get("strimzi.io/cluster") == "cms-kafka", tw, "strimzi.io/cluster label")
        check(t["spec"]["partitions"] == 6 and t["spec"]["config"].get("retention.ms") == 604800000, tw,
              "6 partitions, 7 days retention")
        if overlay != "dev":
            check(t["spec"]["replicas"] == 3 and t["spec"]["config"].get("min.insync.replicas") == 2, tw,
                  "3 replicas, min.insync.replicas 2")
    pg = by_kind.get("Cluster", {}).get("cms-pg")
    check(pg is not None, overlay, "missing CNPG Cluster cms-pg")
    roles = {r["name"] for r in (pg or {}).get("spec", {}).get("managed", {}).get("roles", [])}
    dbs = {d["spec"]["name"]: d for d in by_kind.get("Database", {}).values()}
    for svc in SERVICES:
        db = dbs.get(svc.replace("-", "_"))
        check(db is not None and db["spec"]["cluster"]["name"] == "cms-pg" and db["spec"]["owner"] in roles,
              overlay, f"needs a Database for {svc} in cms-pg owned by a managed role")

    policies = by_kind.get("NetworkPolicy", {})
    if overlay == "prod":
        deny = policies.get("deny-all", {}).get("spec", {})
        check(deny.get("podSelector") == {} and set(deny.get("policyTypes", [])) == {"Ingress", "Egress"},
              overlay, "prod needs the default-deny NetworkPolicy")
        check(set(SERVICES) <= set(policies), overlay, "prod needs a NetworkPolicy per service")
    if policies:
        # The call graph, and nothing else: each gRPC port admits the services that call it (and casework the
        # calling teams' labelled namespaces); each service reaches exactly the gRPC ports it calls.
        pod_labels = {n: d["spec"]["template"]["metadata"]["labels"] for n, d in deployments.items()}
        callers, reaches = network_edges(policies, pod_labels)
        teams = "namespaces:" + json.dumps({"matchLabels": CALLER_LABEL}, sort_keys=True) + "+{}"
        for svc in SERVICES:
            want = {c for c, callees in CALLS.items() if svc in callees} | ({teams} if svc == "casework" else set())
            check(callers[svc] == want, f"{overlay} NetworkPolicy", f"{svc}:{SERVICES[svc]} admits "
                  f"{sorted(callers[svc])}, the call graph says {sorted(want)}")
            check(reaches[svc] == CALLS.get(svc, set()), f"{overlay} NetworkPolicy",
                  f"{svc} may reach the gRPC ports of {sorted(reaches[svc])}, it calls {sorted(CALLS.get(svc, []))}")
        # Strimzi's own listener policy adds up with ours: both must admit the same pods to the plain listener.
        plain = [l for l in (kafka or {}).get("spec", {}).get("kafka", {}).get("listeners", []) if l["name"] == "plain"]
        strimzi = peers({"from": (plain or [{}])[0].get("networkPolicyPeers")}, "Ingress", pod_labels)
        ours = set()
        for rule in policies.get("cms-kafka", {}).get("spec", {}).get("ingress", []):
            if rule.get("ports") and opens_port(rule, 9092):
                ours |= peers(rule, "Ingress", pod_labels)
        check(strimzi == ours == set(SERVICES), f"{overlay} Kafka", f"the plain listener's networkPolicyPeers "
              f"{sorted(strimzi)} and NetworkPolicy cms-kafka {sorted(ours)} must both admit the five services")
    print(f"   {overlay}: {len(docs)} objects checked")

if errors:
    print("\n".join(f"FAIL {e}" for e in errors), file=sys.stderr)
    sys.exit(1)
PY
else
  echo "== SKIP render, kubernetes-validate and project checks: kubectl not found on PATH" \
       "(install kubectl >= 1.27 with kustomize v5 to run them)"
fi

echo "== yamllint deploy/"
"$VENV_BIN/yamllint" -s -c deploy/.yamllint deploy/

echo "k8s-validate: OK"
