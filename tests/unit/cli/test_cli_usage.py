"""Usage errors exit 3 (2 means malicious); help exits 0."""

from __future__ import annotations

import pytest

from packguard.cli.main import run


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["packguard", "--help"], 0),
        (["packguard", "submit", "--help"], 0),
        (["packguard", "submit"], 3),
        (["packguard", "status", "not-a-uuid"], 3),
        (["packguard", "report", "00000000-0000-0000-0000-000000000000", "--format", "xml"], 3),
        (["packguard", "submit", "pkg:pypi/six@1.16.0", "--priority", "11"], 3),
        (["packguard", "nonsense"], 3),
    ],
)
def test_run_exit_codes_for_usage(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], code: int
) -> None:
    monkeypatch.setattr("sys.argv", argv)

    with pytest.raises(SystemExit) as exited:
        run()

    assert exited.value.code == code


def test_submit_rejects_invalid_request_before_any_network(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["packguard", "submit", "", "--api-key", "k"])

    with pytest.raises(SystemExit) as exited:
        run()

    assert exited.value.code == 3
    assert capsys.readouterr().out == ""
