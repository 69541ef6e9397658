"""Instructor-only code: what computes the wrong answers of known mistakes and would amount to a
solution if students could read it (the trusted simulator of every torch.optim optimizer).

Like ``units/hidden/``, the student release leaves this package out entirely (``release.LEFT_OUT``;
the scan reports any file of it as a leak). The public modules never import it: a
:class:`~autograder.diagnosis.KnownMistake` names its wrong answer by an
:class:`~autograder.diagnosis.InstructorAnswer` (module and function, resolved when first needed),
and where this package is absent the answer is looked up in the public fixtures, which
``autograder release`` precomputes for every public check, case and mistake (docs/release.md).
"""
