"""Which database errors mean "PostgreSQL is unavailable" (503, retry) and which do not."""

from __future__ import annotations

import asyncpg
import pytest

from packguard.common.db import translated_db_errors
from packguard.common.errors import DependencyUnavailable


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError("refused"),
        TimeoutError(),
        asyncpg.exceptions.ConnectionDoesNotExistError("closed"),
        asyncpg.exceptions.CannotConnectNowError("starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        asyncpg.exceptions.CrashShutdownError("crash"),
        asyncpg.exceptions.InternalClientError("cannot switch to state 12"),
    ],
)
def test_connection_level_errors_become_dependency_unavailable(error: Exception) -> None:
    with pytest.raises(DependencyUnavailable), translated_db_errors():
        raise error


def test_query_errors_are_not_mistaken_for_an_outage() -> None:
    with pytest.raises(asyncpg.exceptions.UniqueViolationError), translated_db_errors():
        raise asyncpg.exceptions.UniqueViolationError("duplicate key")
