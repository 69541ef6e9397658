"""The four kinds of evidence a check can rest on (see docs/architecture.md):

* :class:`ReferenceCheck`: same seeded inputs into the student's code and the reference; outputs
  compared under the central tolerance policy, mismatches diagnosed into hints;
* :class:`GradientCheck`: the student's backward against finite differences of their own forward;
* :class:`ConvergenceCheck`: a short seeded training run must reach a target within a budget;
* :class:`PropertyCheck`: shapes, inputs not mutated, determinism, stability, statistics.
"""

from .cases import (
    Case,
    as_number_array,
    call_recording_warnings,
    case_builder,
    case_rng,
    expect_tuple,
    fresh_copy,
    redrawing,
    redrawn,
)
from .convergence import ConvergenceCheck
from .gradient import GradientCheck, GradientProblem
from .properties import InputsUnchangedCheck, NoWarningsCheck, PropertyCheck
from .reference import ReferenceCheck

__all__ = [
    "Case",
    "ConvergenceCheck",
    "GradientCheck",
    "GradientProblem",
    "InputsUnchangedCheck",
    "NoWarningsCheck",
    "PropertyCheck",
    "ReferenceCheck",
    "as_number_array",
    "call_recording_warnings",
    "case_builder",
    "case_rng",
    "expect_tuple",
    "fresh_copy",
    "redrawing",
    "redrawn",
]
