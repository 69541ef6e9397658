"""Review of fresh inputs (docs/fresh-inputs.md): replays keyed other ways, and a check whose awkward
cases are never redrawn.

The design says every case is redrawn, "not one per check", because a student "could still replay
only an awkward case and implement the rest". ``techniques.early_stopping.curves`` used to keep 6 of
its 7 cases as written (the hand-made curves with ties and min_delta), so exactly that worked there:
an EarlyStopping that replays the release's fixtures on the hand-made curves (recognised by the
losses seen so far) and otherwise applies a wrong rule (ties and min_delta ignored) kept all 3 points
in the instructor's grading. A redraw now maps each hand-made curve through a random increasing
affine map, min_delta scaled with it (``_curve_case`` in autograder/units/techniques.py), which keeps
its ties and its rises below min_delta.
"""

from __future__ import annotations

import dataclasses
import shutil
import textwrap

import numpy as np
import pytest

from autograder import api
from autograder.checks import Visibility
from autograder.evidence import fresh
from autograder.fixtures import FixtureReference, read_fixtures, write_fixtures
from autograder.grading import SolutionsReference
from autograder.units import all_checks, select_checks

from .conftest import ASSIGNMENTS, SOLUTIONS, results_by_id

CHECK = "techniques.early_stopping.curves"


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and np.array_equal(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b):
        return type(a) is type(b) and all(_same(getattr(a, f.name), getattr(b, f.name))
                                          for f in dataclasses.fields(a))
    return a == b


def _unchanged_cases(check) -> list[str]:
    twin = fresh.twin_of(check)
    return [case.label for case, redrawn_case in zip(check.cases, twin.cases) if _same(case.inputs, redrawn_case.inputs)]


def test_every_case_of_every_public_reference_check_is_redrawn():
    unchanged = {check.id: _unchanged_cases(check) for check in all_checks()
                 if check.visibility is Visibility.PUBLIC and fresh.twin_of(check) is not None}
    assert {check_id: labels for check_id, labels in unchanged.items() if labels} == {}


#: EarlyStopping that ignores min_delta and counts a tie as an improvement, except on the curves
#: whose answers it stored, which it recognises from the losses seen so far.
PARTIAL_REPLAY = '''
class EarlyStopping(EarlyStopping):
    def step(self, val_loss, params):
        self.seen = getattr(self, "seen", []) + [float(val_loss)]
        if val_loss <= self.best_loss:  # wrong: ties and min_delta
            self.best_loss, self.best_epoch = float(val_loss), self.epoch
            self.best_params = [np.array(p, dtype=np.float64, copy=True) for p in params]
            self.wait = 0
        else:
            self.wait += 1
        self.epoch += 1
        for curve, (stop, best_epoch, best_loss) in _STORED:
            if curve[:len(self.seen)] == self.seen:
                self.best_epoch, self.best_loss = int(best_epoch), float(best_loss)
                return len(self.seen) - 1 == stop
        return self.wait >= self.patience
'''


@pytest.fixture(scope="module")
def partial_replay(tmp_path_factory):
    root = tmp_path_factory.mktemp("partial-replay")
    path = root / "public_fixtures.agw.gz"
    write_fixtures(path, select_checks(["techniques.early_stopping"]), SolutionsReference(SOLUTIONS))
    outputs = read_fixtures(path).outputs[CHECK]
    check = next(check for check in all_checks() if check.id == CHECK)
    # The hand-made curves: every public case but the first (the noisy curve, always drawn from a seed).
    awkward = {case.label for case in check.cases[1:]}
    stored = [([float(v) for v in case.inputs["curve"]],
               tuple(float(np.asarray(outputs[f"{index}/{name}"])) for name in ("stop_epoch", "best_epoch", "best_loss")))
              for index, case in enumerate(check.cases) if case.label in awkward]
    submission = root / "submission"
    shutil.copytree(ASSIGNMENTS, submission)
    reference = (SOLUTIONS / "techniques.py").read_text(encoding="utf-8")
    (submission / "techniques.py").write_text(
        reference + f"\n_STORED = {stored!r}\n" + textwrap.dedent(PARTIAL_REPLAY), encoding="utf-8")
    for module in ("mlp.py", "optimizers.py"):  # techniques imports them
        shutil.copy(SOLUTIONS / module, submission / module)
    return submission, path


def test_the_wrong_rule_alone_fails_the_check(partial_replay, tmp_path):
    """The control: without its stored answers the same EarlyStopping loses the check's points."""
    submission, _ = partial_replay
    plain = tmp_path / "plain"
    shutil.copytree(submission, plain)
    source = (plain / "techniques.py").read_text(encoding="utf-8")
    (plain / "techniques.py").write_text(source.replace("for curve, (stop", "for curve, (stop) in []:#"), encoding="utf-8")
    result = results_by_id(api.grade(plain, parts=["techniques.early_stopping"]))[CHECK]
    assert result.score == 0, result.message


def test_a_replay_of_the_hand_made_curves_passes_against_fixtures(partial_replay):
    submission, fixtures = partial_replay
    report = api.grade(submission, parts=["techniques.early_stopping"], reference=FixtureReference(fixtures),
                       visibility=Visibility.PUBLIC)
    assert results_by_id(report)[CHECK].passed


def test_a_replay_of_the_hand_made_curves_earns_nothing_with_the_reference(partial_replay):
    submission, _ = partial_replay
    report = api.grade(submission, parts=["techniques.early_stopping"], reference=SolutionsReference(SOLUTIONS))
    assert results_by_id(report)[CHECK].score == 0
