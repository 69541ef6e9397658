"""Isolation of untrusted code: forked children, a pickle-free wire format, resource limits."""

from .bans import DEFAULT_FORBIDDEN_MODULES, Bans
from .fork import (
    ChildOutcome,
    Confinement,
    Limits,
    ProbeError,
    Status,
    Task,
    run_isolated,
    run_tasks,
)
from .loader import Implementation, SubmissionImportError

__all__ = [
    "Bans",
    "DEFAULT_FORBIDDEN_MODULES",
    "ChildOutcome",
    "Confinement",
    "Implementation",
    "Limits",
    "ProbeError",
    "Status",
    "Task",
    "SubmissionImportError",
    "run_isolated",
    "run_tasks",
]
