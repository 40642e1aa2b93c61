"""Reporting several concurrent start failures at once."""

from collections.abc import Sequence

from packguard.devstack.errors import ComponentFailed, DevstackError


def raise_any(errors: Sequence[BaseException]) -> None:
    """Re-raise a bug as is; report every component failure in one message."""
    for error in errors:
        if not isinstance(error, DevstackError):
            raise error
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ComponentFailed("\n".join(str(e) for e in errors))
