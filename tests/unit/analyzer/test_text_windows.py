"""Reading a text file in windows: every line seen with its number, matches across a
boundary kept; and the IP indicator's look-behind done by hand."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from packguard.analyzer.engines import indicators
from packguard.analyzer.engines.indicators import ip_address_matches
from packguard.analyzer.engines.text_windows import Window, text_windows


def windows_of(tmp_path: Path, content: bytes, window: int, overlap: int) -> list[Window]:
    path = tmp_path / "file.txt"
    path.write_bytes(content)
    return list(text_windows(path, window=window, overlap=overlap))


def numbered_lines(windows: list[Window]) -> dict[int, str]:
    """Line number → text, as the windows tell it (overlaps must agree)."""
    seen: dict[int, str] = {}
    for window in windows:
        for offset, line in enumerate(window.text.split("\n")[:-1]):
            number = window.first_line + offset
            assert seen.setdefault(number, line) == line
    return seen


def test_small_file_is_one_window(tmp_path: Path) -> None:
    assert windows_of(tmp_path, b"a\nb\n", 64, 8) == [Window(1, "a\nb\n")]
    assert windows_of(tmp_path, b"", 64, 8) == [Window(1, "")]


def test_windows_cover_every_line_with_its_number(tmp_path: Path) -> None:
    lines = [f"line {i} " + "x" * (i % 23) for i in range(2000)]
    windows = windows_of(tmp_path, ("\n".join(lines) + "\n").encode(), 1024, 128)
    assert len(windows) > 10
    assert all(len(window.text) <= 1024 for window in windows)
    assert numbered_lines(windows) == dict(enumerate(lines, start=1))


def test_a_match_across_a_boundary_is_in_some_window(tmp_path: Path) -> None:
    # ``\s`` spans lines: the overlap keeps the pair together in the next window.
    filler = "".join(f"filler {i}\n" for i in range(200))
    content = (filler + "powershell\n-enc QUJDREVGR0hJSktMTU5PUA==\n" + filler).encode()
    boundary = content.index(b"-enc")  # the first window ends right before this line
    windows = windows_of(tmp_path, content, boundary, 256)
    assert not windows[0].text.endswith("-enc")
    pattern = re.compile(r"powershell\s-enc\s")
    assert any(pattern.search(window.text) for window in windows)


def test_long_line_is_cut_and_multibyte_text_survives_chunking(tmp_path: Path) -> None:
    text = "é" * 5000 + "\nend\n"  # two bytes a character: chunks split characters
    windows = windows_of(tmp_path, text.encode(), 1000, 100)
    assert "".join(window.text for window in windows) == text  # nothing repeated here
    assert "\ufffd" not in "".join(window.text for window in windows)
    assert numbered_lines(windows)[2] == "end"


# The indicator's pattern before the look-behind moved out of the regex.
_LOOK_BEHIND_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")


def _spans_with(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    original = indicators._IPV4
    indicators._IPV4 = pattern
    try:
        return [match.span() for match in ip_address_matches(text)]
    finally:
        indicators._IPV4 = original


@given(
    st.lists(
        st.one_of(
            st.sampled_from(["1.2.3.4", "203.0.113.7", "10.0.0.1", "8.8.8.8", "1111.2.3.4"]),
            st.sampled_from([".", ":", ":443", "'", '"', " ", "\n", "a", "_", "é", "://", "@"]),
            st.from_regex(r"[0-9.]{1,8}", fullmatch=True),
            st.sampled_from(["host=", "connect(", "url ", "version "]),
        ),
        max_size=12,
    )
)
def test_ip_matches_equal_those_of_the_look_behind_pattern(parts: list[str]) -> None:
    text = "".join(parts)
    assert [m.span() for m in ip_address_matches(text)] == _spans_with(_LOOK_BEHIND_IPV4, text)
