"""A deep-learning fundamentals course that grades itself.

The engine: checks (:mod:`autograder.checks`, :mod:`autograder.evidence`) run on a submission in
isolated children (:mod:`autograder.sandbox`), judged in the parent against the reference
(:mod:`autograder.grading`), reported as typed results (:mod:`autograder.results`).
Start at :func:`autograder.api.grade`, or the ``autograder`` command (:mod:`autograder.cli`).
"""

__version__ = "0.1.0"
