"""Inert stand-ins for a package's missing dependencies, so its own code paths still run.

Runs inside the *package's* interpreter, not the analyzer's: the analyzer copies this file
into the scratch venv's site-packages with a ``.pth`` line that calls
``install_from_env()``. Standard library only.

A meta-path finder, last in ``sys.meta_path`` (so anything really installed wins), hands
back a permissive dummy module when an import fails, but only when the importing code lives
under one of the package roots (``PACKGUARD_STANDIN_ROOTS``, ``os.pathsep``-separated): pip,
setuptools and the standard library keep their own ``ImportError`` handling. Standard
library names are never stood in for (``winreg`` must stay missing on Linux). Each stand-in
name is appended to ``PACKGUARD_STANDIN_LOG``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from typing import Any

ROOTS_ENV = "PACKGUARD_STANDIN_ROOTS"
LOG_ENV = "PACKGUARD_STANDIN_LOG"
_THIS_FILE = os.path.abspath(__file__)
_IMPORTLIB_DIR = os.path.dirname(os.path.abspath(importlib.util.__file__))


class StandIn:
    """Any attribute, call, item or operation gives another stand-in (or a neutral value)."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_standin_name", name)

    def __getattr__(self, attribute: str) -> StandIn:
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)
        return StandIn(f"{object.__getattribute__(self, '_standin_name')}.{attribute}")

    def __setattr__(self, attribute: str, value: object) -> None:
        pass

    def __call__(self, *args: object, **kwargs: object) -> Any:
        # Used as a decorator: keep the decorated function so its body can still run.
        if len(args) == 1 and not kwargs and (callable(args[0]) or isinstance(args[0], type)):
            return args[0]
        return StandIn(f"{object.__getattribute__(self, '_standin_name')}()")

    def __mro_entries__(self, bases: tuple[object, ...]) -> tuple[type, ...]:
        return (StandInBase,)  # class Foo(missing.Base): ...

    def __getitem__(self, key: object) -> StandIn:
        return self

    def __setitem__(self, key: object, value: object) -> None:
        pass

    def __iter__(self) -> Iterator[object]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return False

    def __contains__(self, item: object) -> bool:
        return False

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __await__(self) -> Iterator[None]:
        return iter(())

    def __str__(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"<stand-in {object.__getattribute__(self, '_standin_name')}>"

    def __int__(self) -> int:
        return 0

    def __float__(self) -> float:
        return 0.0

    def __index__(self) -> int:
        return 0

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return other is self

    def _same(self, *other: object) -> StandIn:
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _same
    __truediv__ = __rtruediv__ = __floordiv__ = __mod__ = __or__ = __ror__ = _same
    __and__ = __rand__ = __neg__ = __pos__ = __invert__ = _same


class StandInBase:
    """What a class deriving from a stand-in derives from instead: accepts anything."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __init_subclass__(cls, **kwargs: object) -> None:
        pass

    def __getattr__(self, attribute: str) -> StandIn:
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)
        return StandIn(f"{type(self).__name__}.{attribute}")


class StandInModule(types.ModuleType):
    def __getattr__(self, attribute: str) -> StandIn:
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)
        return StandIn(f"{self.__name__}.{attribute}")


class _StandInLoader(importlib.abc.Loader):
    def __init__(self, record: Callable[[str], None]) -> None:
        self._record = record

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = StandInModule(spec.name)
        module.__path__ = []  # a package, so `import missing.sub` works too
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        self._record(module.__name__)


class StandInFinder(importlib.abc.MetaPathFinder):
    def __init__(self, roots: Sequence[str], log_path: str | None = None) -> None:
        self.roots = tuple(os.path.join(os.path.abspath(root), "") for root in roots if root)
        self.log_path = log_path
        self.stood_in: list[str] = []

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        top = fullname.partition(".")[0]
        if top in sys.stdlib_module_names or top.startswith("_packguard"):
            return None
        parent = fullname.rpartition(".")[0]
        under_standin = bool(parent) and isinstance(sys.modules.get(parent), StandInModule)
        if not under_standin and not self._is_package_importing():
            return None
        loader = _StandInLoader(self._record)
        return importlib.util.spec_from_loader(fullname, loader, is_package=True)

    def _is_package_importing(self) -> bool:
        """Whether the innermost real code running this import lives under a package root.

        Frames of the import machinery, this file and ``exec``'d strings (``<string>``) are
        skipped: an ``exec(decoded)`` in the package counts as the package.
        """
        frame: types.FrameType | None = sys._getframe(1)
        while frame is not None:
            filename = frame.f_code.co_filename
            if not filename.startswith("<"):
                path = os.path.abspath(filename)
                if path != _THIS_FILE and os.path.dirname(path) != _IMPORTLIB_DIR:
                    return path.startswith(self.roots)
            frame = frame.f_back
        return False

    def _record(self, name: str) -> None:
        self.stood_in.append(name)
        if self.log_path:
            try:
                with open(self.log_path, "a", encoding="utf-8") as log:
                    log.write(name + "\n")
            except OSError:
                pass


def install(roots: Sequence[str], log_path: str | None = None) -> StandInFinder:
    finder = StandInFinder(roots, log_path)
    sys.meta_path.append(finder)
    return finder


def uninstall(finder: StandInFinder) -> None:
    if finder in sys.meta_path:
        sys.meta_path.remove(finder)


def install_from_env() -> StandInFinder | None:
    roots = [root for root in os.environ.get(ROOTS_ENV, "").split(os.pathsep) if root]
    return install(roots, os.environ.get(LOG_ENV)) if roots else None
