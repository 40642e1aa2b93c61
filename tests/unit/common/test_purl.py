import pytest
from hypothesis import given
from hypothesis import strategies as st

from packguard.common.errors import InvalidInput, InvalidPurl, MissingVersion, UnsupportedEcosystem
from packguard.common.purl import Ecosystem, PackageRef, UploadedFile, parse_purl


@pytest.mark.parametrize(
    ("text", "ecosystem", "name", "version"),
    [
        ("pkg:pypi/requests@2.28.1", Ecosystem.PYPI, "requests", "2.28.1"),
        (
            "pkg:pypi/Django_REST.framework@3.14.0",
            Ecosystem.PYPI,
            "django-rest-framework",
            "3.14.0",
        ),
        ("pkg:PYPI/six@1.16.0", Ecosystem.PYPI, "six", "1.16.0"),
        ("pkg:npm/lodash@4.17.21", Ecosystem.NPM, "lodash", "4.17.21"),
        ("pkg:npm/%40babel/core@7.22.0", Ecosystem.NPM, "@babel/core", "7.22.0"),
        ("pkg:npm/@babel/core@7.22.0", Ecosystem.NPM, "@babel/core", "7.22.0"),
        ("  pkg:npm/left-pad@1.3.0 ", Ecosystem.NPM, "left-pad", "1.3.0"),
    ],
)
def test_parse_purl_normalizes_names(
    text: str, ecosystem: Ecosystem, name: str, version: str
) -> None:
    package = parse_purl(text)
    assert (package.ecosystem, package.name, package.version) == (ecosystem, name, version)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", InvalidPurl),
        ("requests==2.28.1", InvalidPurl),
        ("pkg:pypi/", InvalidPurl),
        ("pkg:cargo/serde@1.0.0", UnsupportedEcosystem),
        ("pkg:pypi/requests", MissingVersion),
        ("pkg:pypi/ns/requests@1.0", InvalidPurl),
        ("pkg:pypi/requests@1.0?arch=x86", InvalidPurl),
        ("pkg:npm/lodash@4.17.21#lib", InvalidPurl),
        ("pkg:pypi/requests@1.0;rm -rf", InvalidPurl),
        ("pkg:pypi/" + "a" * 600 + "@1.0", InvalidPurl),
        ("pkg:npm/..@1.0.0", InvalidPurl),
    ],
)
def test_parse_purl_rejects_bad_input_with_a_specific_error(
    text: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        parse_purl(text)


def test_purl_round_trips_through_its_normal_form() -> None:
    package = parse_purl("pkg:npm/%40Babel/Core@7.22.0")
    assert parse_purl(package.purl) == package


@given(st.text(max_size=200))
def test_parse_purl_never_raises_anything_but_invalid_input(text: str) -> None:
    try:
        package = parse_purl(text)
    except InvalidInput:
        return
    assert parse_purl(package.purl) == package


_DIGEST = "ab" * 32


def test_upload_purl_round_trips_with_its_qualifiers() -> None:
    package = PackageRef(
        Ecosystem.NPM, "@scope/pkg", "1.0.0", UploadedFile(_DIGEST, "pkg-1.0.0.tgz")
    )

    assert package.purl == (
        f"pkg:npm/%40scope/pkg@1.0.0?checksum=sha256:{_DIGEST}&file_name=pkg-1.0.0.tgz"
    )
    assert parse_purl(package.purl, allow_upload=True) == package


def test_client_purls_may_not_carry_upload_qualifiers() -> None:
    text = f"pkg:pypi/six@1.16.0?checksum=sha256:{_DIGEST}&file_name=six-1.16.0.tar.gz"

    with pytest.raises(InvalidPurl, match="qualifiers"):
        parse_purl(text)


@pytest.mark.parametrize(
    ("qualifiers", "message"),
    [
        (f"checksum=sha256:{_DIGEST}", "only the checksum and file_name"),
        (f"checksum=sha256:{_DIGEST}&file_name=a.tgz&repository_url=x", "only the checksum"),
        ("checksum=sha256:abc&file_name=six.tar.gz", "64 hex"),
        (f"checksum=md5:{_DIGEST}&file_name=six.tar.gz", "64 hex"),
        (f"checksum=sha256:{_DIGEST}&file_name=..%2Fsix.tar.gz", "invalid file_name"),
        (f"checksum=sha256:{_DIGEST}&file_name=.hidden.tgz", "invalid file_name"),
    ],
)
def test_upload_qualifiers_are_validated(qualifiers: str, message: str) -> None:
    with pytest.raises(InvalidPurl, match=message):
        parse_purl(f"pkg:pypi/six@1.16.0?{qualifiers}", allow_upload=True)
