"""Unit 4's hidden checks: trajectories on hidden problems and hyperparameters, hidden schedules."""

from __future__ import annotations

from typing import Any, Mapping

from ...checks import Visibility
from ...evidence import ReferenceCheck
from ..optimizers import (
    SCHEDULE_MISTAKES,
    SPECS,
    TRAJECTORY_STEPS,
    OptimizerSpec,
    Problem,
    TrajectoryCheck,
    _call_schedule,
    _schedule_case,
    _trajectory_case,
    dependencies,
    quadratic,
    rosenbrock,
    softmax_regression,
)

HIDDEN = Visibility.HIDDEN

#: per optimizer part: the hyperparameters of its hidden trajectories (the learning rate is the part's own)
HIDDEN_OPTIONS: Mapping[str, Mapping[str, Any]] = {
    "sgd": {"weight_decay": 0.03},
    "momentum": {"momentum": 0.7, "dampening": 0.3, "weight_decay": 0.05},
    "nag": {"momentum": 0.75, "weight_decay": 0.02},
    "adagrad": {"lr_decay": 0.01, "eps": 0.3},
    "adadelta": {"rho": 0.95, "eps": 1e-5},
    "rmsprop": {"centered": True, "momentum": 0.3, "alpha": 0.95, "eps": 1.0},
    "adam": {"betas": (0.85, 0.995), "amsgrad": True, "eps": 0.2, "weight_decay": 0.02},
    "adamw": {"weight_decay": 0.3, "betas": (0.85, 0.995), "eps": 0.2},
}


def hidden_problems() -> list[Problem]:
    return [quadratic(9400, 40.0), rosenbrock(9401), softmax_regression(9402)]


def _trajectory_hidden(spec: OptimizerSpec) -> TrajectoryCheck:
    cases = [_trajectory_case(spec, problem, HIDDEN_OPTIONS[spec.part], TRAJECTORY_STEPS)
             for problem in hidden_problems()]
    return TrajectoryCheck(f"optimizers.{spec.part}.hidden", spec=spec, cases=cases, points=2, visibility=HIDDEN,
                           depends_on=dependencies(spec),
                           description=f"{spec.class_name} trajectories on hidden problems and hyperparameters")


CHECKS = (
    *(_trajectory_hidden(spec) for spec in SPECS),
    ReferenceCheck("optimizers.schedules.hidden", description="every schedule on hidden settings", points=1,
                   visibility=HIDDEN, call=_call_schedule, known_mistakes=SCHEDULE_MISTAKES,
                   cases=[_schedule_case("", "StepLR", {"step_size": 4, "gamma": 0.7}, 0.3, 15),
                          _schedule_case("", "MultiStepLR", {"milestones": [6, 3], "gamma": 0.2}, 0.9, 9),
                          _schedule_case("", "resnet_cifar_schedule", {"epochs": 37}, 0.05, 37),
                          _schedule_case("", "LinearWarmup", {"warmup_epochs": 7, "start_factor": 0.25}, 0.4, 11),
                          _schedule_case("", "CosineAnnealingLR", {"T_max": 13, "eta_min": 0.002}, 0.07, 13)]),
)
