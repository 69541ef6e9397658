"""Unit 2's hidden checks: every layer and container on inputs students never see."""

from __future__ import annotations

from ...checks import Visibility
from ...evidence import ReferenceCheck
from ..mlp import (
    ACTIVATION_MISTAKES,
    LINEAR_BACKWARD_MISTAKES,
    LINEAR_FORWARD_MISTAKES,
    NETWORK_USES,
    RESIDUAL_MISTAKES,
    SEQUENTIAL_MISTAKES,
    _activation_calls,
    _activation_case,
    _call_linear_backward,
    _call_linear_forward,
    _call_network,
    _call_residual,
    _call_sequential_both,
    _linear_case,
    _network_case,
    _residual_case,
    _sequence_case,
)

HIDDEN = Visibility.HIDDEN

LINEAR_HIDDEN = [_linear_case(9400 + i, *s) for i, s in enumerate([(6, 5, 4), (3, 7, 2), (200, 3, 8)])]
ACTIVATION_HIDDEN_SHAPES = [(6, 5), (2, 9), (100, 3)]
#: (part, class, first seed, inputs kept off the kink at 0, a case with a negative_slope)
ACTIVATIONS = (
    ("relu", "ReLU", 9100, True, False),
    ("leaky_relu", "LeakyReLU", 9120, True, True),
    ("sigmoid", "Sigmoid", 9140, False, False),
    ("tanh", "Tanh", 9160, False, False),
    ("gelu", "GELU", 9180, False, False),
    ("softmax", "Softmax", 9200, False, False),
)
SEQUENTIAL_HIDDEN = [_sequence_case(9500 + i, n, 4) for i, n in enumerate((7, 3))]
NETWORK_HIDDEN = [_network_case(9700, (6, 5, 4, 3), "tanh", 6), _network_case(9701, (2, 11, 1), "relu", 30)]
RESIDUAL_HIDDEN = [_residual_case(9600 + i, n, d) for i, (n, d) in enumerate(((4, 5), (20, 2)))]


def _activation_hidden(part: str, name: str, seed: int, kink: bool, slope_case: bool) -> ReferenceCheck:
    cases = [_activation_case(seed + i, *shape, away_from_zero=kink)
             for i, shape in enumerate(ACTIVATION_HIDDEN_SHAPES)]
    if slope_case:
        cases.append(_activation_case(seed + len(cases), 4, 6, away_from_zero=kink, negative_slope=0.3))
    both = _activation_calls(name)[2]
    return ReferenceCheck(f"mlp.{part}.hidden", description=f"{name} forward and backward on hidden inputs", points=1,
                          visibility=HIDDEN, call=both, cases=cases, known_mistakes=ACTIVATION_MISTAKES[name])


CHECKS = (
    ReferenceCheck(
        "mlp.linear.forward_hidden", description="Linear.forward on hidden inputs", points=1, visibility=HIDDEN,
        call=_call_linear_forward, cases=LINEAR_HIDDEN, known_mistakes=LINEAR_FORWARD_MISTAKES,
    ),
    ReferenceCheck(
        "mlp.linear.backward_hidden", description="Linear.backward on hidden inputs", points=2,
        visibility=HIDDEN, call=_call_linear_backward, cases=LINEAR_HIDDEN,
        known_mistakes=LINEAR_BACKWARD_MISTAKES,
    ),
    *(_activation_hidden(*activation) for activation in ACTIVATIONS),
    ReferenceCheck(
        "mlp.sequential.hidden", description="Sequential forward and backward on hidden inputs", points=1,
        visibility=HIDDEN, call=_call_sequential_both, cases=SEQUENTIAL_HIDDEN, known_mistakes=SEQUENTIAL_MISTAKES,
    ),
    ReferenceCheck(
        "mlp.network.hidden", description="MLP forward and backward on hidden inputs", points=1,
        visibility=HIDDEN, call=_call_network, cases=NETWORK_HIDDEN, depends_on=NETWORK_USES,
    ),
    ReferenceCheck(
        "mlp.residual.hidden", description="Residual forward and backward on hidden inputs", points=1,
        visibility=HIDDEN, call=_call_residual, cases=RESIDUAL_HIDDEN, known_mistakes=RESIDUAL_MISTAKES,
    ),
)
