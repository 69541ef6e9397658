"""`autograder check --plots DIR`: one labelled figure per part, rendered with Agg, for the reference
and for buggy submissions; the outliers exercise draws its line picture; hidden checks never show
their inputs."""

from __future__ import annotations

import matplotlib
import pytest

from autograder import api
from autograder.checks import Visibility
from autograder.plots import part_figures, write_curve_plots
from autograder.results import CheckResult, Report, ResultStatus

from .conftest import SOLUTIONS, edited_reference

matplotlib.use("Agg")

PARTS = ("linear.fit", "losses.outliers", "mlp.depth", "techniques.search")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def reference():
    return api.grade(SOLUTIONS, parts=PARTS)


def labelled(axis) -> list[str]:
    return [line.get_label() for line in axis.get_lines() if not line.get_label().startswith("_")]


def assert_every_panel_labelled(figure, report, part):
    assert figure._suptitle.get_text() == part
    ids = {result.id: result for result in report.results if result.part == part}
    for axis in figure.axes:
        assert axis.get_xlabel() and axis.get_ylabel() and axis.get_title()
        assert axis.get_legend() is not None and labelled(axis) + [t.get_text() for t in axis.get_legend().texts]
        named = [check for check in ids if axis.get_title().replace("\n", " ").startswith(check + " (")]
        if named:  # a series panel: check id, status and description in the title
            result = ids[named[0]]
            title = axis.get_title().replace("\n", " ")
            assert f"({result.status.value})" in title and result.description in title


def test_one_labelled_figure_per_part_for_the_reference(reference, tmp_path):
    figures = part_figures(reference)
    assert sorted(figures) == sorted(PARTS)  # every part here keeps curves, and each gets one figure
    for part, figure in figures.items():
        assert_every_panel_labelled(figure, reference, part)
    written = write_curve_plots(reference, tmp_path)
    assert sorted(path.name for path in written) == sorted(f"{part}.png" for part in PARTS)
    assert all(path.read_bytes()[:8] == PNG for path in written)


def test_losses_spanning_decades_get_a_log_scale(reference):
    (axis,) = part_figures(reference)["linear.fit"].axes
    assert axis.get_yscale() == "log" and axis.get_xlabel() == "step" and axis.get_ylabel() == "loss (log scale)"
    assert labelled(axis) == ["training loss"]


def test_a_curve_kept_twice_is_drawn_once(reference):
    """mlp.depth keeps the residual curve as `residual` and as `residual_losses` (the convergence key)."""
    (axis,) = part_figures(reference)["mlp.depth"].axes
    assert labelled(axis) == ["plain", "residual = residual_losses"]


def test_outliers_draw_the_lesson_line_picture(reference):
    picture, l1, l2 = part_figures(reference)["losses.outliers"].axes
    assert (picture.get_xlabel(), picture.get_ylabel()) == ("x", "y")
    lines = labelled(picture)
    assert [line.split(":")[0] for line in lines] == ["true line", "L1Loss fit", "least squares line", "MSELoss fit"]
    assert lines[0] == "true line: y = 2 x + 0.5"
    points = sum(len(collection.get_offsets()) for collection in picture.collections)
    assert points == 60 and len(picture.collections[1].get_offsets()) == 9  # 15% of 60 pushed up
    assert "l1_stays_close" in l1.get_title() and "l2_pulled_away" in l2.get_title().replace("\n", " ")


def test_a_buggy_submission_gets_its_figures_with_the_failure_in_the_title(tmp_path):
    """MSE gradient sign flipped: the MSE fit runs away; the figure still shows the data and the
    reference lines, and the failing check says so in its title."""
    submission = edited_reference(tmp_path / "submission", "losses", {
        "return 2.0 * cache.residual / cache.residual.shape[0]": "return -2.0 * cache.residual / cache.residual.shape[0]",
    })
    report = api.grade(submission, parts=("losses.outliers",))
    figures = part_figures(report)
    assert list(figures) == ["losses.outliers"]
    assert_every_panel_labelled(figures["losses.outliers"], report, "losses.outliers")
    picture, _, l2 = figures["losses.outliers"].axes
    assert "(failed)" in l2.get_title()
    lines = labelled(picture)
    assert [line.split(":")[0] for line in lines] == ["true line", "L1Loss fit", "least squares line", "MSELoss fit"]
    assert "e+" in lines[-1]  # the run-away line, its huge coefficients in the legend...
    low, high = picture.get_ylim()  # ...while the view stays on the data (y in about [-2, 11])
    assert -5 < low < 0 and 10 < high < 15
    assert [path.name for path in write_curve_plots(report, tmp_path / "plots")] == ["losses.outliers.png"]


def _result(id, visibility, curves):
    return CheckResult(id=id, description="d", status=ResultStatus.FAILED, score=0.0, max_score=1.0,
                       visibility=visibility, curves=curves)


def test_a_hidden_check_never_shows_its_inputs():
    """The line picture shows a check's inputs: a hidden check keeps only its own training curve."""
    curves = {"data x": (0.0, 1.0), "data y": (0.0, 1.0), "line true line": (1.0, 0.0), "losses": (3.0, 2.0, 1.0)}
    hidden = Report("s", (_result("losses.outliers.hidden", Visibility.HIDDEN, curves),))
    (axis,) = part_figures(hidden)["losses.outliers"].axes
    assert labelled(axis) == ["training loss"] and not axis.collections
    public = Report("s", (_result("losses.outliers.public", Visibility.PUBLIC, curves),))
    picture, _ = part_figures(public)["losses.outliers"].axes
    assert labelled(picture) == ["true line: y = 1 x + 0"]


def test_a_curve_that_blows_up_says_where(tmp_path):
    report = Report("s", (_result("linear.fit.least_squares", Visibility.PUBLIC,
                                  {"losses": (1.0, 10.0, float("inf"), float("nan"))}),))
    (axis,) = part_figures(report)["linear.fit"].axes
    assert labelled(axis) == ["training loss (not finite from index 2)"]
    assert write_curve_plots(report, tmp_path)[0].read_bytes()[:8] == PNG


def test_no_curves_no_files(tmp_path):
    assert write_curve_plots(Report("s", (_result("linear.predict.values", Visibility.PUBLIC, {}),)), tmp_path / "p") == []
    assert not (tmp_path / "p").exists()
