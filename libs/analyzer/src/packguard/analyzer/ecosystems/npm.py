"""npm: the package's own lifecycle scripts run in the unpacked package, then it is required.

``npm install`` cannot run offline (it resolves dependencies first), so each of the
``preinstall``, ``install`` and ``postinstall`` scripts runs the way npm runs it,
``sh -c SCRIPT`` in the package directory with npm's lifecycle variables, and then the
``main`` entry is required. Every node process loads the stand-in ``require`` hook through
``NODE_OPTIONS``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from packguard.analyzer.ecosystems.base import PhaseSetupError, Step, Workspace

LIFECYCLE_SCRIPTS = ("preinstall", "install", "postinstall")
MAX_MANIFEST_BYTES = 1 << 20
# What npm 9 on node 18 would say; some payloads only run when they see npm.
USER_AGENT = "npm/9.2.0 node/v18.19.0 linux x64 workspaces/false"


class NpmPhases:
    name: str = "npm"
    source_globs: tuple[str, ...] = (
        "**/*.js",
        "**/*.cjs",
        "**/*.mjs",
        "**/*.ts",
        "**/package.json",
        "**/*.gyp",
    )

    def prepare(self, workspace: Workspace) -> None:
        package_dir(workspace.tree)

    def install_steps(self, workspace: Workspace) -> list[Step]:
        directory = package_dir(workspace.tree)
        manifest = read_manifest(directory)
        scripts = manifest.get("scripts")
        scripts = scripts if isinstance(scripts, dict) else {}
        steps = []
        for event in LIFECYCLE_SCRIPTS:
            script = scripts.get(event)
            if not isinstance(script, str) or not script.strip():
                continue
            env = {
                **_node_env(workspace, directory),
                **_lifecycle_env(manifest, directory, event, script, workspace.path),
            }
            # depth 0 is our `sh -c`; what it runs is the package's script.
            argv = ("/bin/sh", "-c", script)
            steps.append(Step(event, argv, directory, env, host_programs="sh"))
        return steps

    def import_steps(self, workspace: Workspace, *, installed: bool) -> list[Step]:
        directory = package_dir(workspace.tree)
        settle_ms = str(int(workspace.settle_seconds * 1000))
        argv = ("node", str(workspace.hooks / "require_driver.js"), str(directory), settle_ms)
        env = _node_env(workspace, directory)
        return [Step("require", argv, directory, env, host_programs="node(js)?")]

    def package_paths(self, workspace: Workspace) -> tuple[Path, ...]:
        return (workspace.tree,)


def package_dir(tree: Path) -> Path:
    """``package/`` in registry tarballs; otherwise the one top directory with a manifest."""
    if (tree / "package" / "package.json").is_file():
        return tree / "package"
    candidates = [tree, *sorted(d for d in tree.iterdir() if d.is_dir())] if tree.is_dir() else []
    for candidate in candidates:
        if (candidate / "package.json").is_file():
            return candidate
    raise PhaseSetupError("no package.json in the tarball")


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / "package.json"
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise PhaseSetupError("package.json is too large")
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise PhaseSetupError(f"unreadable package.json: {error}") from error
    if not isinstance(manifest, dict):
        raise PhaseSetupError("package.json is not an object")
    return manifest


def _node_env(workspace: Workspace, directory: Path) -> dict[str, str]:
    return {
        "NODE_OPTIONS": f"--require {workspace.hooks / 'standins.js'}",
        "PACKGUARD_STANDIN_ROOTS": str(directory),
    }


def _lifecycle_env(
    manifest: dict[str, Any], directory: Path, event: str, script: str, path: str
) -> dict[str, str]:
    return {
        "npm_lifecycle_event": event,
        "npm_lifecycle_script": script,
        "npm_package_name": str(manifest.get("name", "")),
        "npm_package_version": str(manifest.get("version", "")),
        "npm_package_json": str(directory / "package.json"),
        "npm_config_user_agent": USER_AGENT,
        "npm_node_execpath": "/usr/bin/node",
        "INIT_CWD": str(directory),
        "PATH": f"{directory / 'node_modules' / '.bin'}:{path}",
    }


NPM = NpmPhases()
