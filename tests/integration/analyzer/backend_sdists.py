"""Small, inert sdists built with each PEP 517 backend the analyzer image carries.

Each one is what ``python -m build --sdist`` would make for a one-module project: a
``pyproject.toml`` naming the backend, ``PKG-INFO``, and the module. Installing one
offline only works if the image has that backend.
"""

from __future__ import annotations

from tests.fixtures.packages import BuiltArtifact, tar_gz

MODULE = "def greet():\n    return 'hello'\n"


# backend -> (build-system.requires, build-backend, extra pyproject tables)
SYSTEMS: dict[str, tuple[str, str, str]] = {
    "hatchling": ('"hatchling>=1.26"', "hatchling.build", ""),
    "flit-core": ('"flit_core>=3.11,<5"', "flit_core.buildapi", ""),
    "poetry-core": ('"poetry-core>=2.0"', "poetry.core.masonry.api", ""),
    "pdm-backend": ('"pdm-backend"', "pdm.backend", ""),
    "setuptools-scm": (
        '"setuptools>=77", "setuptools-scm>=8"',
        "setuptools.build_meta",
        "[tool.setuptools_scm]\n",
    ),
    # A PEP 639 license expression (below): Debian's own setuptools 66 refuses it.
    "setuptools": ('"setuptools>=77"', "setuptools.build_meta", ""),
}
BACKENDS = tuple(SYSTEMS)


def _pyproject(backend: str, name: str) -> str:
    """``pyproject.toml`` of a project named ``name`` (package ``name``) built by ``backend``."""
    requires, build_backend, extra = SYSTEMS[backend]
    # setuptools-scm takes the version from PKG-INFO when there is no git checkout.
    version = 'dynamic = ["version"]' if "setuptools_scm" in extra else 'version = "1.0"'
    return (
        f'[build-system]\nrequires = [{requires}]\nbuild-backend = "{build_backend}"\n\n'
        f'[project]\nname = "{name}"\n{version}\ndescription = "A fixture package"\n'
        f'license = "MIT"\nrequires-python = ">=3.8"\n\n{extra}'
    )


def backend_sdist(backend: str) -> tuple[str, BuiltArtifact]:
    """``(module name, sdist)`` of a one-module project built with ``backend``."""
    name = f"built_with_{backend.replace('-', '_')}"
    root = f"{name}-1.0"
    metadata = f"Metadata-Version: 2.4\nName: {name}\nVersion: 1.0\nLicense-Expression: MIT\n"
    files: dict[str, str | bytes] = {
        f"{root}/PKG-INFO": metadata,
        f"{root}/pyproject.toml": _pyproject(backend, name),
    }
    # flit wants a package or module named after the project; a package suits them all.
    files[f"{root}/{name}/__init__.py"] = MODULE
    return name, BuiltArtifact(f"{root}.tar.gz", tar_gz(files))
