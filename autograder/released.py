"""Which units a student release holds: ``autograder/released_units.json``, written by the release.

A weekly release (``autograder release OUT --unit linear``) carries some units' stubs, notebooks and
public fixtures, but the whole grader (every unit's public checks are public anyway). Without a
record of what it holds, ``autograder check`` would grade every unit and report the later weeks'
files as missing, scoring the student out of points that are not theirs to earn yet. The release
writes the list here, beside the fixtures; ``check`` grades those units only.

A file rather than something derived: the fixtures list only checks that need the reference, and
the assignments folder is the student's to change (a file copied in from a later week must not
widen what a release grades). This module is in every grader; the file exists only in a release.
"""

from __future__ import annotations

import json
from pathlib import Path

#: The record inside the grader package of a release (never in the course repository).
MANIFEST = Path(__file__).resolve().with_name("released_units.json")


class ManifestError(ValueError):
    """The record exists but cannot be read (damaged release)."""


def released_units(path: Path = MANIFEST) -> tuple[str, ...] | None:
    """The units the release holds, in course order; None where there is no record (the course
    repository, or a release made before the record existed: every unit is graded, as before)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise ManifestError(f"{path} cannot be read ({error}); build the release again") from None
    units = document.get("units") if isinstance(document, dict) else None
    if not (isinstance(units, list) and units and all(isinstance(unit, str) for unit in units)):
        raise ManifestError(f"{path} does not list the release's units; build the release again")
    return tuple(units)


def write_manifest(package: Path, units: list[str]) -> Path:
    """Records ``units`` in the grader package folder ``package`` (a release being built)."""
    path = Path(package) / MANIFEST.name
    path.write_text(json.dumps({"units": list(units)}, indent=1) + "\n", encoding="utf-8")
    return path
