"""assignments/ is generated from solutions/ and must stay in sync with it.

Every test but one grades stubs freshly generated from solutions/ (``conftest.ASSIGNMENTS``), so a
student's work in assignments/ breaks nothing. The one exception is the sync test below: it reads
the working copy's assignments/, so that CI (a fresh clone) catches committed stubs that are stale.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from autograder.stubs import StubError, make_stub, solution_regions, stale_assignments

from .conftest import ASSIGNMENTS, SOLUTIONS, WORKING_ASSIGNMENTS


def _edited_in_working_tree(folder: Path) -> list[str]:
    """Files of ``folder`` that git reports as changed against HEAD (empty without git)."""
    try:
        completed = subprocess.run(
            ["git", "status", "--porcelain", "--", "."], cwd=folder, capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line[3:] for line in completed.stdout.splitlines()] if completed.returncode == 0 else []


def test_assignments_are_in_sync_with_solutions():
    """The one test of the working copy's assignments/: it must be exactly what `autograder stubs`
    generates from solutions/. Fails by design in a copy where a student has filled in stubs."""
    stale = stale_assignments(SOLUTIONS, WORKING_ASSIGNMENTS)
    if not stale:
        return
    edited = _edited_in_working_tree(WORKING_ASSIGNMENTS)
    why = (
        f"assignments/ was edited (git reports uncommitted changes: {', '.join(edited)}): if that is a "
        "student's work, this failure is expected (the other tests grade freshly generated stubs); "
        if edited else ""
    )
    pytest.fail(
        f"assignments/ differs from the stubs generated from solutions/ ({', '.join(stale)}): {why}"
        "if you changed solutions/, run `autograder stubs` and commit assignments/"
    )


def test_stale_file_is_detected(tmp_path):
    shutil.copytree(ASSIGNMENTS, tmp_path, dirs_exist_ok=True)
    assert stale_assignments(SOLUTIONS, tmp_path) == []
    (tmp_path / "linear_model.py").write_text("# edited by hand\n")
    (tmp_path / "extra.py").write_text("")
    missing = next(p.name for p in sorted(SOLUTIONS.glob("*.py")) if p.name != "linear_model.py")
    (tmp_path / missing).unlink()
    assert stale_assignments(SOLUTIONS, tmp_path) == sorted(["extra.py", "linear_model.py", missing])


def test_every_reference_file_has_solution_regions_and_no_solution_leaks_into_stubs():
    for path in SOLUTIONS.glob("*.py"):
        regions = solution_regions(path.read_text(), path)
        assert regions, f"{path.name} has no solution region"
        stub = (ASSIGNMENTS / path.name).read_text()
        assert "BEGIN SOLUTION" not in stub
        for region in regions:
            for line in region.body:
                code = line.strip()
                if code and not code.startswith("#") and len(code) > 12:
                    assert code not in stub, f"{path.name}: solution line {code!r} leaked into the stub"


def test_stub_keeps_everything_outside_regions_and_names_the_function():
    source = '''def f(x):
    """Doc."""
    # Hint: square it.
    ### BEGIN SOLUTION
    y = x * x
    return y
    ### END SOLUTION


class Model:
    def g(self):
        ### BEGIN SOLUTION
        return 1
        ### END SOLUTION
'''
    assert make_stub(source) == '''def f(x):
    """Doc."""
    # Hint: square it.
    raise NotImplementedError("f: not implemented yet")


class Model:
    def g(self):
        raise NotImplementedError("Model.g: not implemented yet")
'''


@pytest.mark.parametrize(
    "source, message",
    [
        ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
        ("### END SOLUTION\n", "without a"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another"),
        ("### BEGIN SOLUTION\n\n### END SOLUTION\n", "empty solution region"),
    ],
)
def test_malformed_markers_are_rejected_with_the_line(source, message):
    with pytest.raises(StubError, match=message):
        make_stub(source, Path("x.py"))
