"""Forbidden modules and functions inside a student's sandboxed child.

The course is about writing things yourself in numpy, so submissions may not import torch, jax,
tensorflow or autograd; a check may ban more, e.g. ``numpy.linalg.lstsq`` where the exercise is to
reach the least-squares solution by gradient descent. Bans are installed in the child *before* any
student module is imported:

* modules: an import hook at the front of ``sys.meta_path`` refuses them, after removing any copy the
  parent had already imported from ``sys.modules`` (otherwise ``import torch`` would hit the cache);
* functions: the attribute is replaced by a function that raises :class:`ForbiddenCall`.

A violation is reported as its own status, "forbidden", and scores the checks that hit it 0.
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys
from dataclasses import dataclass

DEFAULT_FORBIDDEN_MODULES = frozenset({"torch", "jax", "jaxlib", "tensorflow", "keras", "autograd"})
#: The grader's own trusted code: hidden checks (their inputs and seeds) and the instructor-only
#: wrong-answer simulators. Refused in every student child, whatever ``Bans`` says.
TRUSTED_PACKAGES = ("autograder.units.hidden", "autograder.units.instructor")


def _trusted_package(fullname: str) -> str | None:
    for package in TRUSTED_PACKAGES:
        if fullname == package or fullname.startswith(package + "."):
            return package
    return None


class ForbiddenImport(ImportError):
    """Raised when student code imports a forbidden module (an ImportError, so a
    ``try: import torch / except ImportError`` fallback still works as the student meant)."""

    is_forbidden_use = True


class ForbiddenCall(RuntimeError):
    """Raised when student code calls a function the check forbids."""

    is_forbidden_use = True


@dataclass(frozen=True)
class Bans:
    """What a student's child may not use. ``calls`` are dotted paths such as ``numpy.linalg.lstsq``."""

    modules: frozenset[str] = DEFAULT_FORBIDDEN_MODULES
    calls: frozenset[str] = frozenset()

    def with_calls(self, calls) -> "Bans":
        return Bans(self.modules, self.calls | frozenset(calls)) if calls else self


class _ModuleBlocker(importlib.abc.MetaPathFinder):
    def __init__(self, modules: frozenset[str]):
        self.modules = modules

    def find_spec(self, fullname, path=None, target=None):
        trusted = _trusted_package(fullname)
        if trusted:
            raise ForbiddenImport(f"importing {fullname} is not allowed: {trusted} holds the grader's own code")
        if fullname.split(".")[0] in self.modules:
            raise ForbiddenImport(
                f"importing {fullname} is not allowed in this course: write it yourself with numpy"
            )
        return None


def install(bans: Bans) -> None:
    """Applies ``bans`` to the current process (call it in the child only)."""
    for name in list(sys.modules):
        if name.split(".")[0] in bans.modules or _trusted_package(name):
            del sys.modules[name]
    # ``import autograder.units as u; u.hidden`` would skip the import system: the attribute goes too.
    units = sys.modules.get("autograder.units")
    for package in TRUSTED_PACKAGES:
        if units is not None and hasattr(units, package.rsplit(".", 1)[1]):
            delattr(units, package.rsplit(".", 1)[1])
    sys.meta_path.insert(0, _ModuleBlocker(bans.modules))
    for dotted in sorted(bans.calls):
        module_name, _, attribute = dotted.rpartition(".")
        module = importlib.import_module(module_name)
        setattr(module, attribute, _forbidden(dotted))


def _forbidden(dotted: str):
    def forbidden(*args, **kwargs):
        raise ForbiddenCall(f"{dotted} is not allowed in this part: the exercise is to do its work yourself")

    forbidden.__name__ = dotted.rsplit(".", 1)[-1]
    return forbidden
