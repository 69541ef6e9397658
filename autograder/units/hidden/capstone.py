"""Unit 6's hidden check: the capstone trained from a hidden seed, on the training set sorted by class."""

from __future__ import annotations

from ...checks import Visibility
from ...evidence import ConvergenceCheck
from ..capstone import (
    EPOCH_BUDGET,
    TARGET_ACCURACY,
    TRAINING_TIMEOUT_S,
    TRAINING_USES,
    TrainingRun,
    assess_held_out,
    training_facts,
)

#: A sorted training set punishes a loop that does not shuffle: every epoch would end on the 9s.
HIDDEN_RUN = TrainingRun(seed=9606, order="by_class")

CHECKS = (
    ConvergenceCheck(
        "capstone.train.hidden", visibility=Visibility.HIDDEN, points=2, run=training_facts, assess=assess_held_out,
        case=HIDDEN_RUN.case(""), curve_key="val_loss", timeout_s=TRAINING_TIMEOUT_S, depends_on=TRAINING_USES,
        description=f"the same target ({TARGET_ACCURACY} within {EPOCH_BUDGET} epochs) from a hidden seed, on "
                    "the training set in another order",
    ),
)

#: Work of the hidden training run for autograder.speed (multiply-adds of Linear.forward; recounted
#: on the reference by tests/test_speed.py): fewer than the public run's, the sorted order stops earlier.
HEAVY_CHECKS = {"capstone.train.hidden": {"Linear": 2.76e8}}
