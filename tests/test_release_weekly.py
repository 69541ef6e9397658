"""A weekly release's `autograder check` grades the units the release holds, and only those
(issue 14): no line for a unit of a later week, totals out of the released units' points.

The release (`--unit linear`) is built once for the module; its grader runs as students run it,
with only the release importable (tests/test_release.py's `run_in_release`)."""

from __future__ import annotations

import re
import shutil

import pytest

from autograder import release
from autograder.checks import Visibility
from autograder.released import ManifestError, released_units
from autograder.units import UNITS, all_checks

from .conftest import SOLUTIONS
from .test_release import run_in_release

PUBLIC = [check for check in all_checks() if check.visibility is Visibility.PUBLIC]
LINEAR = [check for check in PUBLIC if check.unit == "linear"]
LINEAR_POINTS = sum(check.points for check in LINEAR)
OTHERS = [name for name in UNITS if name != "linear"]


@pytest.fixture(scope="module")
def week1(tmp_path_factory):
    folder = tmp_path_factory.mktemp("week1") / "release"
    release.build_release(folder, units=["linear"])
    return folder


def total(output: str) -> tuple[float, float]:
    earned, possible = re.search(r"^Total: ([\d.]+)/([\d.]+) points", output, re.MULTILINE).groups()
    return float(earned), float(possible)


def lines_naming_other_units(output: str) -> list[str]:
    names = {UNITS[name].module for name in OTHERS} | {f"{name}." for name in OTHERS}
    titles = {UNITS[name].title for name in OTHERS}
    return [line for line in output.splitlines()
            if any(name in line for name in names) or any(title in line for title in titles)]


def test_the_release_records_the_units_it_holds(week1):
    assert released_units(week1 / "autograder" / "released_units.json") == ("linear",)
    assert released_units() is None  # the course repository has no record: every unit, as before


def test_check_on_the_stubs_grades_only_the_released_unit(week1):
    result = run_in_release(week1, "-m", "autograder", "check", "--color", "never", cwd=week1)
    assert result.returncode == 0, result.stderr
    assert "this release holds units: linear" in result.stdout
    assert lines_naming_other_units(result.stdout) == []
    assert "missing" not in result.stdout
    assert total(result.stdout) == (0, LINEAR_POINTS)


def test_check_on_the_solution_scores_the_released_units_points(week1, tmp_path):
    copy = tmp_path / "release"
    shutil.copytree(week1, copy)
    shutil.copy(SOLUTIONS / f"{UNITS['linear'].module}.py", copy / "assignments")
    result = run_in_release(copy, "-m", "autograder", "check", "--color", "never", cwd=copy)
    assert result.returncode == 0, result.stderr
    assert lines_naming_other_units(result.stdout) == []
    assert total(result.stdout) == (LINEAR_POINTS, LINEAR_POINTS)


def test_a_later_weeks_file_copied_in_does_not_widen_what_is_graded(week1, tmp_path):
    copy = tmp_path / "release"
    shutil.copytree(week1, copy)
    shutil.copy(SOLUTIONS / f"{UNITS['mlp'].module}.py", copy / "assignments")
    result = run_in_release(copy, "-m", "autograder", "check", "--color", "never", cwd=copy)
    assert result.returncode == 0, result.stderr
    assert total(result.stdout) == (0, LINEAR_POINTS)


def test_check_of_a_unit_the_release_does_not_hold_says_so(week1):
    result = run_in_release(week1, "-m", "autograder", "check", "mlp.relu", cwd=week1)
    assert result.returncode == 2
    assert "mlp: not in this release, which holds units: linear" in result.stderr
    named = run_in_release(week1, "-m", "autograder", "check", "linear.predict", "--color", "never", cwd=week1)
    assert named.returncode == 0, named.stderr
    assert "this release holds units" not in named.stdout
    assert total(named.stdout)[1] == sum(check.points for check in LINEAR if check.part == "linear.predict")


def test_a_damaged_record_is_an_error_not_a_guess(tmp_path):
    path = tmp_path / "released_units.json"
    path.write_text("{\"units\": []}")
    with pytest.raises(ManifestError, match="build the release again"):
        released_units(path)
    path.write_text("not json")
    with pytest.raises(ManifestError, match="cannot be read"):
        released_units(path)
