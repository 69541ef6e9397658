"""nbgrader autograde without running student code outside the sandbox (being written)."""

from __future__ import annotations


def autograde_config() -> str:
    """Lines of ``nbgrader_config.py`` that make ``nbgrader autograde`` grade in the sandbox."""
    return ""
