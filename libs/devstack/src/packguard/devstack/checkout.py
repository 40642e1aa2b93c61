"""Finding the packguard checkout whose code the dev stack builds into images and runs."""

from pathlib import Path

from packguard.devstack.errors import SetupError

# A file only a packguard checkout has at this relative path.
MARKER = Path("libs") / "devstack" / "pyproject.toml"


def find_repo_root(start: Path | None = None) -> Path:
    """The checkout around this (editable) install, else around `start` (default: cwd).

    The installed code wins: the services run it, so images must be built from it too.
    """
    for origin in (Path(__file__).resolve().parent, (start or Path.cwd()).absolute()):
        for directory in (origin, *origin.parents):
            if (directory / MARKER).is_file():
                return directory
    raise SetupError(
        "no packguard checkout found (looked for libs/devstack/pyproject.toml above "
        f"{Path(__file__).parent} and {start or Path.cwd()}): install the dev stack with "
        "`make venv` from a checkout, or run it from one"
    )
