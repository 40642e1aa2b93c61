"""Ingress routes and NetworkPolicies: what is exposed and who may talk to whom."""

from __future__ import annotations

import pytest

from tests.unit.k8s.manifests import Doc, find, object_id, targets

ALL = sorted(targets())
PUBLIC_PREFIXES = {"/api", "/health"}
INTERNAL_PATHS = ("/metrics", "/ready/")
# Ports a pod of ours may open connections to: DNS, HTTPS, Redis, PostgreSQL, the managed
# databases' ports, and the dev overlay's in-cluster S3.
ALLOWED_EGRESS_PORTS = {53, 443, 5432, 6379, 26379, 25060, 25061, 8333}


def _policies(docs: list[Doc], namespace: str) -> list[Doc]:
    return [
        d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["namespace"] == namespace
    ]


def _ingresses(docs: list[Doc]) -> list[Doc]:
    return [d for d in docs if d["kind"] == "Ingress"]


@pytest.mark.parametrize("target", ALL)
def test_only_api_and_health_are_routed(target: str, rendered: dict[str, list[Doc]]) -> None:
    for ingress in _ingresses(rendered[target]):
        for rule in ingress["spec"]["rules"]:
            paths = {p["path"] for p in rule["http"]["paths"]}
            assert all(path.startswith(tuple(PUBLIC_PREFIXES)) for path in paths), object_id(
                ingress
            )
            if ingress["metadata"]["name"] == "gateway":
                assert paths == PUBLIC_PREFIXES, object_id(ingress)
            for internal in INTERNAL_PATHS:
                assert not any(internal.startswith(p) for p in paths), internal


@pytest.mark.parametrize("target", ["base", "overlays/staging", "overlays/prod"])
def test_public_ingress_has_tls_and_a_rate_limit(
    target: str, rendered: dict[str, list[Doc]]
) -> None:
    docs = rendered[target]
    ingress = find(docs, "Ingress", "gateway", "packguard")
    annotations = ingress["metadata"]["annotations"]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert annotations["nginx.ingress.kubernetes.io/limit-rps"] == "100"
    issuer = find(docs, "ClusterIssuer", annotations["cert-manager.io/cluster-issuer"])
    assert "letsencrypt.org" in issuer["spec"]["acme"]["server"]
    hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
    assert hosts <= {h for tls in ingress["spec"]["tls"] for h in tls["hosts"]}


def test_dev_has_no_tls(rendered: dict[str, list[Doc]]) -> None:
    docs = rendered["overlays/dev"]
    ingress = find(docs, "Ingress", "gateway", "packguard")
    assert "tls" not in ingress["spec"]
    assert not [d for d in docs if d["kind"] == "ClusterIssuer"]


@pytest.mark.parametrize("target", ALL)
def test_both_namespaces_deny_by_default(target: str, rendered: dict[str, list[Doc]]) -> None:
    for namespace in ("packguard", "packguard-sandbox"):
        assert any(
            p["spec"]["podSelector"] == {}
            and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress")
            and not p["spec"].get("egress")
            for p in _policies(rendered[target], namespace)
        ), f"{target}: no default deny in {namespace}"


@pytest.mark.parametrize("target", ALL)
def test_api_accepts_only_the_ingress_controller_and_prometheus(
    target: str, rendered: dict[str, list[Doc]]
) -> None:
    for policy in _policies(rendered[target], "packguard"):
        selector = policy["spec"]["podSelector"]
        applies = (
            selector == {}
            or selector.get("matchLabels", {}).get("app.kubernetes.io/component") == "api"
        )
        for rule in policy["spec"].get("ingress", []) if applies else []:
            for peer in rule.get("from", []):
                namespace = peer.get("namespaceSelector", {}).get("matchLabels", {})
                assert namespace.get("kubernetes.io/metadata.name") in {
                    "ingress-nginx",
                    "monitoring",
                }, f"{object_id(policy)}: {peer}"


@pytest.mark.parametrize("target", ALL)
def test_egress_goes_only_to_data_stores_dns_and_https(
    target: str, rendered: dict[str, list[Doc]]
) -> None:
    for namespace in ("packguard", "packguard-sandbox"):
        for policy in _policies(rendered[target], namespace):
            for rule in policy["spec"].get("egress", []):
                ports = {p["port"] for p in rule.get("ports", [])}
                assert ports, f"{object_id(policy)}: egress to any port"
                assert ports <= ALLOWED_EGRESS_PORTS, f"{object_id(policy)}: {ports}"
                for peer in rule.get("to", []):
                    block = peer.get("ipBlock")
                    if block and block["cidr"] == "0.0.0.0/0":
                        assert ports == {443}, object_id(policy)
                        assert "10.0.0.0/8" in block.get("except", []), object_id(policy)


@pytest.mark.parametrize("target", ["base", "overlays/staging"])
def test_databases_accept_only_our_pods(target: str, rendered: dict[str, list[Doc]]) -> None:
    docs = rendered[target]
    for name in ("postgres", "redis", "redis-proxy"):
        policy = find(docs, "NetworkPolicy", name, "packguard")
        for rule in policy["spec"]["ingress"]:
            for peer in rule["from"]:
                assert "ipBlock" not in peer, name
                namespace = peer.get("namespaceSelector", {}).get("matchLabels", {})
                assert namespace.get("kubernetes.io/metadata.name", "packguard") in {
                    "packguard",
                    "packguard-sandbox",
                    "keda",
                }, name


def test_runners_reach_redis_but_not_postgres(rendered: dict[str, list[Doc]]) -> None:
    policy = find(rendered["base"], "NetworkPolicy", "runner-egress", "packguard-sandbox")
    ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]}
    assert ports == {6379, 443}


@pytest.mark.parametrize("target", ["base", "overlays/staging", "overlays/prod"])
def test_only_the_upload_route_accepts_large_bodies(
    target: str, rendered: dict[str, list[Doc]]
) -> None:
    docs = rendered[target]
    body_size = "nginx.ingress.kubernetes.io/proxy-body-size"
    api = find(docs, "Ingress", "gateway", "packguard")
    upload = find(docs, "Ingress", "gateway-upload", "packguard")
    (rule,) = upload["spec"]["rules"]
    assert [(p["path"], p["pathType"]) for p in rule["http"]["paths"]] == [
        ("/api/v1/analyze/upload/", "Exact")
    ]
    assert api["metadata"]["annotations"][body_size] == "64k"
    assert upload["metadata"]["annotations"][body_size] == "65m"
    assert upload["metadata"]["annotations"]["nginx.ingress.kubernetes.io/limit-rps"] == "100"
    assert upload["spec"]["tls"] == api["spec"]["tls"]
