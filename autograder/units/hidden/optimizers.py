"""Unit 4's hidden checks, one per concept like the public ones: each optimizer with its defaults on
hidden problems, each option alone with a hidden value (and, for lr_schedule, a hidden schedule),
and hidden schedules."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

import numpy as np

from ...checks import Visibility
from ...evidence import ReferenceCheck
from ..optimizers import (
    SCHEDULE_MISTAKES,
    SPECS,
    TRAJECTORY_STEPS,
    Option,
    OptimizerSpec,
    Problem,
    TrajectoryCheck,
    _call_schedule,
    _schedule_case,
    _trajectory_case,
    dependencies,
    option_cases,
    quadratic,
    rosenbrock,
    softmax_regression,
)

HIDDEN = Visibility.HIDDEN
HIDDEN_OPTION_STEPS = 100

#: per optimizer part and option: the hidden value of that one argument (every other at its default)
HIDDEN_OPTIONS: Mapping[str, Mapping[str, Mapping[str, Any]]] = {
    "sgd": {"weight_decay": {"weight_decay": 0.03}},
    "momentum": {"momentum": {"momentum": 0.7}, "dampening": {"dampening": 0.3},
                 "weight_decay": {"weight_decay": 0.05}, "lr_schedule": {}},
    "nag": {"momentum": {"momentum": 0.75}, "weight_decay": {"weight_decay": 0.02}, "lr_schedule": {}},
    "adagrad": {"lr_decay": {"lr_decay": 0.01}, "eps": {"eps": 0.3}, "weight_decay": {"weight_decay": 0.04}},
    "adadelta": {"lr": {"lr": 0.7}, "rho": {"rho": 0.95}, "eps": {"eps": 1e-4}, "weight_decay": {"weight_decay": 0.03}},
    "rmsprop": {"alpha": {"alpha": 0.95, "lr": 0.003}, "eps": {"eps": 1.0}, "momentum": {"momentum": 0.3},
                "centered": {"centered": True}, "weight_decay": {"weight_decay": 0.05}},
    "adam": {"betas": {"betas": (0.85, 0.995)}, "eps": {"eps": 0.2}, "amsgrad": {"amsgrad": True},
             "weight_decay": {"weight_decay": 0.02}},
    "adamw": {"betas": {"betas": (0.85, 0.995)}, "eps": {"eps": 0.2}, "amsgrad": {"amsgrad": True},
              "weight_decay": {"weight_decay": 0.3}},
}


def hidden_problems() -> list[Problem]:
    return [quadratic(9400, 40.0), rosenbrock(9401), softmax_regression(9402)]


def hidden_option_problems() -> list[Problem]:
    return [quadratic(9410, 30.0), softmax_regression(9411)]


def hidden_lr_factors(steps: int) -> np.ndarray:
    """The hidden schedule: half a cosine from lr down to lr / 10."""
    t = np.arange(steps)
    return 0.1 + 0.9 * 0.5 * (1.0 + np.cos(np.pi * t / steps))


def _trajectory_hidden(spec: OptimizerSpec) -> TrajectoryCheck:
    cases = [_trajectory_case(spec, problem, {}, TRAJECTORY_STEPS) for problem in hidden_problems()]
    return TrajectoryCheck(f"optimizers.{spec.part}.hidden", spec=spec, cases=cases, points=1, visibility=HIDDEN,
                           depends_on=dependencies(spec),
                           description=f"{spec.class_name} with its defaults on hidden problems")


def _option_hidden(spec: OptimizerSpec, option: Option) -> TrajectoryCheck:
    hidden = replace(option, options=HIDDEN_OPTIONS[spec.part][option.aspect])
    cases = option_cases(spec, hidden, hidden_option_problems(), HIDDEN_OPTION_STEPS, hidden_lr_factors, "")
    return TrajectoryCheck(f"optimizers.{spec.part}.hidden_{option.aspect}", spec=spec, cases=cases, points=1,
                           visibility=HIDDEN, depends_on=dependencies(spec),
                           description=f"{spec.class_name}, {option.aspect} on hidden problems and values")


CHECKS = (
    *(check for spec in SPECS
      for check in (_trajectory_hidden(spec), *(_option_hidden(spec, o) for o in spec.options))),
    ReferenceCheck("optimizers.schedules.hidden", description="every schedule on hidden settings", points=1,
                   visibility=HIDDEN, call=_call_schedule, known_mistakes=SCHEDULE_MISTAKES,
                   cases=[_schedule_case("", "StepLR", {"step_size": 4, "gamma": 0.7}, 0.3, 15),
                          _schedule_case("", "MultiStepLR", {"milestones": [6, 3], "gamma": 0.2}, 0.9, 9),
                          _schedule_case("", "resnet_cifar_schedule", {"epochs": 37}, 0.05, 37),
                          _schedule_case("", "LinearWarmup", {"warmup_epochs": 7, "start_factor": 0.25}, 0.4, 11),
                          _schedule_case("", "CosineAnnealingLR", {"T_max": 13, "eta_min": 0.002}, 0.07, 13)]),
)
