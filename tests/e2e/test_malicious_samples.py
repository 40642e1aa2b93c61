"""Inert malicious pypi and npm samples through the whole pipeline: HTTP in, verdict,
findings rows, and the bait access and sinkholed network intent in the stored report."""

from __future__ import annotations

import json

import aiohttp
import asyncpg
import pytest

from packguard.common.purl import parse_purl
from packguard.common.storage import ReportStore, report_key
from tests.e2e.processes import Pipeline
from tests.e2e.test_pipeline import _submit, _wait_final
from tests.fixtures.packages import npm_tarball, pypi_sdist
from tests.fixtures.registry import FixtureRegistry
from tests.fixtures.samples import NPM_POSTINSTALL, STEALER_SETUP

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def test_stealers_are_reported_malicious_with_bait_and_sinkholed_destinations(
    pipeline: Pipeline,
    api_key: str,
    fixture_registry: FixtureRegistry,
    db_pool: asyncpg.Pool,
    report_store: ReportStore,
) -> None:
    fixture_registry.add_pypi(
        "stealer", pypi_sdist("stealer", "1.0", {"setup.py": STEALER_SETUP, "stealer.py": ""})
    )
    fixture_registry.add_npm(
        "telemetry-helper",
        "1.0.0",
        npm_tarball(
            "telemetry-helper",
            "1.0.0",
            {"install.js": NPM_POSTINSTALL},
            scripts={"postinstall": "node install.js"},
        ),
    )
    await pipeline.start(runners=1)
    purls = ["pkg:pypi/stealer@1.0", "pkg:npm/telemetry-helper@1.0.0"]
    async with aiohttp.ClientSession() as session:
        accepted = [await _submit(session, pipeline.gateway_url, api_key, p) for p in purls]
        finals = [
            await _wait_final(session, pipeline.gateway_url, api_key, a["task_id"])
            for a in accepted
        ]
    assert [f["status"] for f in finals] == ["completed", "completed"], pipeline.logs()
    assert [f["verdict"]["label"] for f in finals] == ["malicious", "malicious"]
    reports = [
        json.loads(await report_store.get(report_key(parse_purl(p), a["task_id"])))
        for p, a in zip(purls, accepted, strict=True)
    ]
    pypi_report, npm_report = reports
    assert "exfil.invalid" in {d["name"] for d in pypi_report["dynamic"]["dns"]}
    assert pypi_report["dynamic"]["http"][0]["request_line"].startswith("GET /collect?k=AKIA")
    assert "npm-telemetry.invalid" in {t["server_name"] for t in npm_report["dynamic"]["tls"]}
    for task in accepted:
        rules = {
            row["rule_id"]
            for row in await db_pool.fetch(
                "SELECT rule_id FROM findings WHERE task_id = $1", task["task_id"]
            )
        }
        assert "dynamic-bait-read" in rules


async def test_uploaded_stealer_is_analysed_from_storage_and_reported_malicious(
    pipeline: Pipeline, api_key: str, db_pool: asyncpg.Pool, report_store: ReportStore
) -> None:
    sdist = pypi_sdist(
        "uploaded-stealer", "1.0", {"setup.py": STEALER_SETUP, "uploaded_stealer.py": ""}
    )
    await pipeline.start(runners=1)
    form = aiohttp.FormData()
    form.add_field("file", sdist.data, filename="uploaded_stealer-1.0.tar.gz")
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{pipeline.gateway_url}/api/v1/analyze/upload/",
            data=form,
            headers={"X-API-Key": api_key},
        ) as response:
            assert response.status == 202, await response.text()
            accepted = (await response.json())["data"]
        final = await _wait_final(session, pipeline.gateway_url, api_key, accepted["task_id"])

    assert final["status"] == "completed", pipeline.logs()
    assert final["verdict"]["label"] == "malicious"
    purl = await db_pool.fetchval("SELECT purl FROM tasks WHERE id = $1", accepted["task_id"])
    package = parse_purl(purl, allow_upload=True)
    report = json.loads(await report_store.get(report_key(package, accepted["task_id"])))
    assert report["artifacts"][0]["sha256"] == sdist.sha256
    assert "exfil.invalid" in {d["name"] for d in report["dynamic"]["dns"]}
