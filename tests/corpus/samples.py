"""A corpus sample and the archive shapes it is built as: sdist, wheel, npm tarball."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import zipfile
from dataclasses import dataclass, field
from typing import Literal

Label = Literal["malicious", "benign"]
Kind = Literal["sdist", "wheel", "npm"]


@dataclass(frozen=True)
class Sample:
    name: str
    version: str
    kind: Kind
    label: Label
    technique: str
    files: dict[str, str] = field(default_factory=dict)
    """Paths relative to the package root (``setup.py``, ``pkg/__init__.py``, ``index.js``)."""
    scripts: dict[str, str] = field(default_factory=dict)
    """npm lifecycle scripts (npm samples only)."""
    manifest: dict[str, object] = field(default_factory=dict)
    """Extra package.json keys (npm samples only): ``type``, ``exports``..."""

    @property
    def ecosystem(self) -> str:
        return "npm" if self.kind == "npm" else "pypi"

    @property
    def filename(self) -> str:
        if self.kind == "npm":
            return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}.tgz"
        if self.kind == "wheel":
            return f"{self.name.replace('-', '_')}-{self.version}-py3-none-any.whl"
        return f"{self.name}-{self.version}.tar.gz"

    def build(self) -> bytes:
        if self.kind == "npm":
            return _npm(self)
        if self.kind == "wheel":
            return _wheel(self)
        return _sdist(self)


def _tar_gz(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, text in sorted(members.items()):
            data = text.encode("utf-8")
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _metadata(sample: Sample) -> str:
    return f"Metadata-Version: 2.1\nName: {sample.name}\nVersion: {sample.version}\n"


def _sdist(sample: Sample) -> bytes:
    root = f"{sample.name}-{sample.version}"
    files = {"PKG-INFO": _metadata(sample), **sample.files}
    files.setdefault("setup.py", f"from setuptools import setup\nsetup(name={sample.name!r})\n")
    return _tar_gz({f"{root}/{path}": text for path, text in files.items()})


def _wheel(sample: Sample) -> bytes:
    dist_info = f"{sample.name.replace('-', '_')}-{sample.version}.dist-info"
    files = {
        **sample.files,
        f"{dist_info}/METADATA": _metadata(sample),
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    files[f"{dist_info}/RECORD"] = "\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return buffer.getvalue()


def _npm(sample: Sample) -> bytes:
    manifest: dict[str, object] = {"name": sample.name, "version": sample.version}
    manifest.update(sample.manifest)
    if sample.scripts:
        manifest["scripts"] = sample.scripts
    files = dict(sample.files)
    # A package with an exports map names its own entry points.
    if "exports" not in manifest:
        manifest.setdefault("main", "index.js")
        files.setdefault("index.js", "module.exports = {};\n")
    files["package.json"] = json.dumps(manifest, indent=2) + "\n"
    return _tar_gz({f"package/{path}": text for path, text in files.items()})
