"""Unit 3's hidden checks: every loss, forward and backward, on inputs students never see."""

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
    _both_call,
    _classification_case,
    _extreme_classification_case,
    _gaussian_case,
    _regression_case,
    _regression_cases,
    _tied_case,
)

HIDDEN = Visibility.HIDDEN
HIDDEN_REGRESSION_SHAPES = [(9, 4), (3, 5), (1000, 2)]

#: (loss, its known mistakes, the hidden cases)
HIDDEN_CASES = (
    (MSE, MSE_MISTAKES, _regression_cases(9000, HIDDEN_REGRESSION_SHAPES)),
    (L1, L1_MISTAKES, _regression_cases(9010, HIDDEN_REGRESSION_SHAPES) + [_tied_case(9013, 6, 3)]),
    (HUBER, HUBER_MISTAKES, [_regression_case(9020, 9, 4, scale=1.5), _regression_case(9021, 3, 5, delta=0.3),
                             _regression_case(9022, 1000, 3, delta=1.7, scale=2.0)]),
    (CE, ALL_CE_MISTAKES, [_classification_case(9030, 9, 5), _classification_case(9031, 4, 3, targets="soft"),
                           _classification_case(9032, 300, 8, targets="one_hot", label_smoothing=0.2),
                           _extreme_classification_case(9033, 3, 4, 1e4, label_smoothing=0.05)]),
    (BCE, ALL_BCE_MISTAKES, [_binary_case(9040, 9, 1), _binary_case(9041, 3, 4, soft=True),
                             _binary_case(9042, 500, 1), _binary_case(9043, 4, 1, size=3000.0)]),
    (GAUSSIAN, GAUSSIAN_MISTAKES, [_gaussian_case(9050, 9, 3, learned=False, full=True), _gaussian_case(9051, 3, 5),
                                   _gaussian_case(9052, 7, 3, below_eps=True),
                                   _gaussian_case(9053, 600, 2, full=True)]),
)

CHECKS = tuple(
    ReferenceCheck(
        f"losses.{spec.part}.hidden", description=f"{spec.class_name} forward and backward on hidden inputs",
        points=1, visibility=HIDDEN, call=_both_call(spec), cases=cases, known_mistakes=mistakes,
    )
    for spec, mistakes, cases in HIDDEN_CASES
)
