"""Unit 3's hidden checks: every loss, forward and backward, on inputs students never see.

One check, one concept, as the public checks: ``losses.<part>.hidden`` holds each loss to its
plain convention only (integer labels for cross-entropy, 0/1 labels for BCE, the default delta for
Huber, a learned variance above eps for the Gaussian NLL, no tied residuals for L1), so that a
convention a student has not done yet (label smoothing, probability targets) costs its own checks
and never this one. Cross-entropy's two conventions have hidden checks of their own.
"""

from __future__ import annotations

from ...checks import Visibility
from ...evidence import ReferenceCheck
from ..losses import (
    ALL_BCE_MISTAKES,
    ALL_CE_MISTAKES,
    BCE,
    CE,
    GAUSSIAN,
    GAUSSIAN_MISTAKES,
    HUBER,
    HUBER_MISTAKES,
    L1,
    L1_MISTAKES,
    MSE,
    MSE_MISTAKES,
    _binary_case,
    FORWARD,
    _both_call,
    _outputs_call,
    _classification_case,
    _gaussian_case,
    _regression_case,
    _regression_cases,
)

HIDDEN = Visibility.HIDDEN
HIDDEN_REGRESSION_SHAPES = [(9, 4), (3, 5), (1000, 2)]

#: (loss, aspect, what it holds, its known mistakes, the hidden cases); the convention checks compare
#: the forward only, as their public counterparts.
HIDDEN_CASES = (
    (MSE, "hidden", "forward and backward", MSE_MISTAKES, _regression_cases(9000, HIDDEN_REGRESSION_SHAPES)),
    (L1, "hidden", "forward and backward", L1_MISTAKES, _regression_cases(9010, HIDDEN_REGRESSION_SHAPES)),
    (HUBER, "hidden", "forward and backward (default delta)", HUBER_MISTAKES,
     [_regression_case(9020, 9, 4, scale=1.5), _regression_case(9021, 3, 5),
      _regression_case(9022, 1000, 3, scale=2.0)]),
    (CE, "hidden", "forward and backward (integer labels)", ALL_CE_MISTAKES,
     [_classification_case(9030, 9, 5), _classification_case(9034, 300, 8)]),
    (CE, "hidden_targets", "forward with probability targets", ALL_CE_MISTAKES,
     [_classification_case(9031, 4, 3, targets="soft"), _classification_case(9032, 300, 8, targets="one_hot")]),
    (CE, "hidden_label_smoothing", "forward with label smoothing (integer labels)", ALL_CE_MISTAKES,
     [_classification_case(9035, 7, 5, label_smoothing=0.2), _classification_case(9036, 300, 8, label_smoothing=0.05)]),
    (BCE, "hidden", "forward and backward (0/1 labels)", ALL_BCE_MISTAKES,
     [_binary_case(9040, 9, 1), _binary_case(9042, 500, 1), _binary_case(9044, 3, 4)]),
    (GAUSSIAN, "hidden", "forward and backward (learned variance)", GAUSSIAN_MISTAKES,
     [_gaussian_case(9051, 3, 5), _gaussian_case(9053, 600, 2)]),
)

CHECKS = tuple(
    ReferenceCheck(
        f"losses.{spec.part}.{aspect}", description=f"{spec.class_name} {what} on hidden inputs",
        points=1, visibility=HIDDEN, call=_both_call(spec) if aspect == "hidden" else _outputs_call(spec, FORWARD),
        cases=cases, known_mistakes=mistakes,
    )
    for spec, aspect, what, mistakes, cases in HIDDEN_CASES
)
