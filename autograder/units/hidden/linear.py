"""Unit 1's hidden checks: predict, the loss and the gradients on inputs students never see."""

from __future__ import annotations

from ...checks import Visibility
from ...evidence import ReferenceCheck
from ..linear import (
    GRADIENT_MISTAKES,
    LOSS_MISTAKES,
    PREDICT_MISTAKES,
    _call_gradients,
    _call_loss,
    _call_predict,
    _loss_case,
    _model_case,
)

HIDDEN = Visibility.HIDDEN
HIDDEN_SHAPES = [(7, 5, 3), (3, 2, 6), (11, 6, 1)]
HIDDEN_CASES = [_model_case(9000 + i, *shape) for i, shape in enumerate(HIDDEN_SHAPES)]

CHECKS = (
    ReferenceCheck(
        "linear.predict.hidden", description="predict on hidden inputs", points=1,
        visibility=HIDDEN, call=_call_predict, cases=HIDDEN_CASES, known_mistakes=PREDICT_MISTAKES,
    ),
    ReferenceCheck(
        "linear.loss.hidden", description="mse_loss on hidden inputs", points=1, visibility=HIDDEN,
        call=_call_loss, cases=[_loss_case(case) for case in HIDDEN_CASES], known_mistakes=LOSS_MISTAKES,
    ),
    ReferenceCheck(
        "linear.gradients.hidden", description="loss_gradients on hidden inputs", points=2,
        visibility=HIDDEN, call=_call_gradients, cases=HIDDEN_CASES, known_mistakes=GRADIENT_MISTAKES,
        depends_on=("linear.predict",),
    ),
)
