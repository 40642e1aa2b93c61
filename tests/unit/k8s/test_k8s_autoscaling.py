"""The gateway HPA and the runner's KEDA ScaledObject carry the agreed numbers, and the
KEDA formula is the scheduler's scaling rule."""

from __future__ import annotations

import random

import pytest

from packguard.common import keys
from packguard.scheduler.scaling import MAX_REPLICAS, desired_replicas
from tests.unit.k8s.expr_formula import evaluate
from tests.unit.k8s.manifests import Doc, config_map_data, find

PRODUCTION_LIKE = ["base", "overlays/prod", "tests/managed-with-all-components"]
WITH_KEDA = [*PRODUCTION_LIKE, "overlays/staging"]


def _scaled_object(docs: list[Doc]) -> Doc:
    return find(docs, "ScaledObject", "runner", "packguard-sandbox")


@pytest.mark.parametrize("target", PRODUCTION_LIKE)
def test_gateway_hpa_numbers(target: str, rendered: dict[str, list[Doc]]) -> None:
    hpa = find(rendered[target], "HorizontalPodAutoscaler", "gateway", "packguard")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 10)
    targets = {m["resource"]["name"]: m["resource"]["target"] for m in hpa["metrics"]}
    assert targets == {
        "cpu": {"type": "Utilization", "averageUtilization": 70},
        "memory": {"type": "Utilization", "averageUtilization": 80},
    }
    up, down = hpa["behavior"]["scaleUp"], hpa["behavior"]["scaleDown"]
    assert up["policies"] == [{"type": "Pods", "value": 2, "periodSeconds": 60}]
    assert down["policies"] == [{"type": "Pods", "value": 1, "periodSeconds": 300}]


@pytest.mark.parametrize("target", PRODUCTION_LIKE)
def test_runner_scaled_object_numbers(target: str, rendered: dict[str, list[Doc]]) -> None:
    spec = _scaled_object(rendered[target])["spec"]
    assert spec["scaleTargetRef"]["name"] == "runner"
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (0, MAX_REPLICAS)
    behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    up, down = behavior["scaleUp"], behavior["scaleDown"]
    # Aggressive up: the most permissive policy adds at least 10 pods a minute.
    assert up["selectPolicy"] == "Max"
    assert any(
        p["type"] == "Pods" and p["value"] >= 10 and p["periodSeconds"] <= 60
        for p in up["policies"]
    )
    # Conservative down: one pod per 10 minutes, nothing faster.
    assert down["policies"] == [{"type": "Pods", "value": 1, "periodSeconds": 600}]
    assert down["stabilizationWindowSeconds"] >= 600


@pytest.mark.parametrize("target", WITH_KEDA)
def test_triggers_read_lag_and_pending_of_both_ready_streams(
    target: str, rendered: dict[str, list[Doc]]
) -> None:
    docs = rendered[target]
    spec = _scaled_object(docs)["spec"]
    common = config_map_data(docs, "packguard-common", "packguard-sandbox")
    streams = {common["READY_STREAM"], common["PRIORITY_STREAM"]}
    assert streams == {keys.READY_STREAM, keys.PRIORITY_STREAM}
    seen = set()
    for trigger in spec["triggers"]:
        meta = trigger["metadata"]
        assert trigger["type"] == "redis-streams"
        assert meta["consumerGroup"] == keys.RUNNERS_GROUP
        assert meta["stream"] in streams
        mode = "lag" if "lagCount" in meta else "pending" if "pendingEntriesCount" in meta else "?"
        seen.add((meta["stream"], mode))
        auth = trigger["authenticationRef"]["name"]
        find(docs, "TriggerAuthentication", auth, "packguard-sandbox")
    assert seen == {(s, m) for s in streams for m in ("lag", "pending")}


@pytest.mark.parametrize("target", WITH_KEDA)
def test_formula_is_the_scheduler_step_rule(target: str, rendered: dict[str, list[Doc]]) -> None:
    spec = _scaled_object(rendered[target])["spec"]
    modifiers = spec["advanced"]["scalingModifiers"]
    assert (modifiers["metricType"], modifiers["target"]) == ("AverageValue", "1")
    names = [t["name"] for t in spec["triggers"]]
    cap = spec["maxReplicaCount"]
    rng = random.Random(4)
    checked = [*range(0, 450), 499, 500, 999, 1999, 2000, 2001, 5000, 10**6]
    for queued in checked:
        # Any split of the total over the four triggers gives the same answer.
        cuts = sorted(rng.randint(0, queued) for _ in range(len(names) - 1))
        parts = [b - a for a, b in zip([0, *cuts], [*cuts, queued], strict=True)]
        value = evaluate(modifiers["formula"], dict(zip(names, parts, strict=True)))
        assert min(value, cap) == desired_replicas(queued, max_replicas=cap), queued


def test_formula_matches_the_documented_steps(rendered: dict[str, list[Doc]]) -> None:
    formula = _scaled_object(rendered["base"])["spec"]["advanced"]["scalingModifiers"]["formula"]
    table = {
        0: 0,
        1: 1,
        9: 1,
        10: 1,
        11: 2,
        49: 5,
        50: 10,
        199: 40,
        200: 100,
        1999: 1000,
        2000: 1000,
        5000: 1000,
    }
    for queued, replicas in table.items():
        value = evaluate(
            formula,
            {"ready_lag": queued, "priority_lag": 0, "ready_pending": 0, "priority_pending": 0},
        )
        assert value == replicas, queued


@pytest.mark.parametrize("target", WITH_KEDA)
def test_runner_drains_within_its_grace_period(target: str, rendered: dict[str, list[Doc]]) -> None:
    docs = rendered[target]
    pod = find(docs, "Deployment", "runner", "packguard-sandbox")["spec"]["template"]["spec"]
    timeout_minutes = int(
        config_map_data(docs, "runner", "packguard-sandbox")["DEFAULT_TIMEOUT_MINUTES"]
    )
    assert pod["terminationGracePeriodSeconds"] >= timeout_minutes * 60 + 120


@pytest.mark.parametrize("target", ["base", "overlays/prod", "overlays/dev"])
def test_runner_reaches_its_own_engine(target: str, rendered: dict[str, list[Doc]]) -> None:
    docs = rendered[target]
    pod = find(docs, "Deployment", "runner", "packguard-sandbox")["spec"]["template"]["spec"]
    settings = config_map_data(docs, "runner", "packguard-sandbox")
    engine = next(c for c in pod["initContainers"] if c["name"] == "engine")
    runner = next(c for c in pod["containers"] if c["name"] == "runner")
    assert engine["restartPolicy"] == "Always"  # native sidecar: outlives the draining runner
    socket = settings["DOCKER_HOST"].removeprefix("unix://")
    assert settings["DOCKER_HOST"].startswith("unix://")
    assert f"--host={settings['DOCKER_HOST']}" in engine["args"]
    assert not any("tcp://" in arg for arg in engine["args"])

    def mount_for(container: Doc, path: str) -> tuple[str, str]:
        mounts = [
            m
            for m in container["volumeMounts"]
            if path.startswith(m["mountPath"] + "/") or path == m["mountPath"]
        ]
        assert mounts, f"{container['name']} does not mount {path}"
        best = max(mounts, key=lambda m: len(m["mountPath"]))
        return best["name"], best["mountPath"]

    # The socket and the work dir: the same volume at the same path in both containers
    # (the engine resolves bind-mount sources in its own filesystem).
    for path in (socket, settings["WORK_DIR"]):
        assert mount_for(engine, path) == mount_for(runner, path)
        volume = next(v for v in pod["volumes"] if v["name"] == mount_for(runner, path)[0])
        assert "emptyDir" in volume
