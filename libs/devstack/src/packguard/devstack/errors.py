"""Errors raised by the dev stack.

DevstackError
├── ComponentFailed     a server did not start, or did not answer before its deadline
├── EngineUnavailable   no container engine answers and none can be started here
└── SetupError          a prerequisite is missing (package, apt mirror, permission)
"""


class DevstackError(Exception):
    """Base of every error this package raises on purpose."""


class ComponentFailed(DevstackError):
    """A server exited early or did not answer before its deadline."""


class EngineUnavailable(DevstackError):
    """No Docker Engine answers and this machine cannot start a private one."""


class SetupError(DevstackError):
    """A prerequisite is missing and cannot be installed automatically."""
