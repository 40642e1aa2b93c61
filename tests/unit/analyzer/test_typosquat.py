"""Typosquatting decisions, as a table over the bundled popular lists."""

from __future__ import annotations

import pytest

from packguard.analyzer.metadata.popular import load_popular
from packguard.analyzer.metadata.typosquat import find_squat, skeleton


@pytest.mark.parametrize(
    ("name", "ecosystem", "target", "technique"),
    [
        ("reqeusts", "pypi", "requests", "1 edit(s) away"),
        ("numpyy", "pypi", "numpy", "1 edit(s) away"),
        ("pythondateutil", "pypi", "python-dateutil", "separators changed"),
        ("djang0", "pypi", "django", "look-alike characters"),
        ("r\u0435quests", "pypi", "requests", "Unicode look-alike characters"),
        ("loadsh", "npm", "lodash", "1 edit(s) away"),
        ("cross_env", "npm", "cross-env", "separators changed"),
        ("babelcore", "npm", "@babel/core", "npm scope flattened into the name"),
        ("@evil/lodash", "npm", "lodash", "popular unscoped name under a scope"),
    ],
)
def test_find_squat_known_techniques(
    name: str, ecosystem: str, target: str, technique: str
) -> None:
    squat = find_squat(name, ecosystem, load_popular(ecosystem))
    assert squat is not None
    assert (squat.target, squat.technique) == (target, technique)


@pytest.mark.parametrize(
    ("name", "ecosystem"),
    [
        ("requests", "pypi"),
        ("python_dateutil", "pypi"),  # the index treats -, _ and . as one
        ("Django", "pypi"),
        ("lodash", "npm"),
        ("@babel/core", "npm"),
        ("six", "pypi"),  # too short to judge
        ("my-internal-tool", "npm"),
        ("packguard", "pypi"),
    ],
)
def test_find_squat_popular_or_distinct_names_pass(name: str, ecosystem: str) -> None:
    assert find_squat(name, ecosystem, load_popular(ecosystem)) is None


def test_popular_lists_are_bundled_with_hundreds_of_names() -> None:
    assert len(load_popular("pypi")) >= 500
    assert len(load_popular("npm")) >= 500
    assert load_popular("rubygems") == frozenset()


def test_skeleton_folds_lookalikes() -> None:
    assert skeleton("rn-0dule") == skeleton("module") == "module"
