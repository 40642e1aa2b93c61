import base64
import hashlib

import pytest

from packguard.common.errors import PackageNotFound
from packguard.common.purl import parse_purl
from packguard.runner.registries.npm import artifact_from_version_document
from packguard.runner.registries.pypi import choose_distribution, choose_distributions


def _file(filename: str) -> dict[str, object]:
    return {"filename": filename, "url": f"files/{filename}", "hashes": {"sha256": "ab" * 32}}


@pytest.mark.parametrize(
    ("files", "version", "expected"),
    [
        (["six-1.16.0.tar.gz", "six-1.16.0-py2.py3-none-any.whl"], "1.16.0", "six-1.16.0.tar.gz"),
        (
            ["six-1.16.0-cp311-cp311-manylinux_2_17_x86_64.whl", "six-1.16.0-py3-none-any.whl"],
            "1.16.0",
            "six-1.16.0-py3-none-any.whl",
        ),
        (["six-1.15.0.tar.gz", "six-1.16.0.tar.gz"], "1.16", "six-1.16.0.tar.gz"),
        (["six-1.15.0.tar.gz"], "1.16.0", None),
        (["not-a-dist.txt", "six-1.16.0.tar.gz"], "1.16.0", "six-1.16.0.tar.gz"),
    ],
)
def test_choose_distribution_prefers_sdist_then_portable_wheel(
    files: list[str], version: str, expected: str | None
) -> None:
    chosen = choose_distribution([_file(name) for name in files], version)
    assert (chosen["filename"] if chosen else None) == expected


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            ["six-1.16.0-py3-none-any.whl", "six-1.16.0.tar.gz"],
            ["six-1.16.0.tar.gz", "six-1.16.0-py3-none-any.whl"],
        ),
        (
            [
                "six-1.16.0.tar.gz",
                "six-1.16.0-cp311-cp311-manylinux_2_17_x86_64.whl",
                "six-1.16.0-py3-none-any.whl",
            ],
            ["six-1.16.0.tar.gz", "six-1.16.0-py3-none-any.whl"],
        ),
        (["six-1.16.0.tar.gz", "six-1.16.0.zip"], ["six-1.16.0.tar.gz"]),
        (
            ["six-1.16.0.tar.gz", "six-1.16.0-cp312-cp312-macosx_14_0_arm64.whl"],
            ["six-1.16.0.tar.gz"],
        ),
        (["six-1.15.0-py3-none-any.whl"], []),
    ],
)
def test_choose_distributions_takes_the_sdist_and_one_wheel(
    files: list[str], expected: list[str]
) -> None:
    chosen = choose_distributions([_file(name) for name in files], "1.16.0")
    assert [entry["filename"] for entry in chosen] == expected


def test_choose_distribution_skips_entries_without_sha256() -> None:
    entry = {"filename": "six-1.16.0.tar.gz", "url": "x", "hashes": {"md5": "00"}}
    assert choose_distribution([entry], "1.16.0") is None


def test_choose_distribution_rejects_path_like_filenames() -> None:
    assert choose_distribution([_file("../six-1.16.0.tar.gz")], "1.16.0") is None


def test_npm_document_prefers_sha512_integrity() -> None:
    digest = hashlib.sha512(b"tarball").digest()
    document = {
        "dist": {
            "tarball": "http://127.0.0.1/files/left-pad-1.0.0.tgz",
            "integrity": "sha512-" + base64.b64encode(digest).decode(),
            "shasum": "0" * 40,
        }
    }
    location = artifact_from_version_document(document, parse_purl("pkg:npm/left-pad@1.0.0"))
    assert (location.digest_algorithm, location.expected_digest) == ("sha512", digest.hex())
    assert location.filename == "left-pad-1.0.0.tgz"


def test_npm_document_falls_back_to_sha1_shasum() -> None:
    document = {"dist": {"tarball": "http://127.0.0.1/files/a-1.0.0.tgz", "shasum": "AB" * 20}}
    location = artifact_from_version_document(document, parse_purl("pkg:npm/a@1.0.0"))
    assert (location.digest_algorithm, location.expected_digest) == ("sha1", "ab" * 20)


@pytest.mark.parametrize(
    "document",
    [{}, {"dist": {}}, {"dist": {"tarball": "http://127.0.0.1/a.tgz"}}, "not a dict"],
)
def test_npm_document_without_tarball_or_digest_is_not_found(document: object) -> None:
    with pytest.raises(PackageNotFound):
        artifact_from_version_document(document, parse_purl("pkg:npm/a@1.0.0"))
