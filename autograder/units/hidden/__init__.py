"""The hidden checks, one module per unit, named as the unit (``linear.py`` for unit ``linear``).

Each module exports ``CHECKS``: its unit's hidden checks, with the seeds, cases and settings only
they use. The registry (:mod:`autograder.units`) adds them to their units, each part's hidden
checks right after its public ones. The student release leaves this package out entirely, so its
grader runs the public checks only and no hidden input, seed or id reaches students
(docs/release.md).
"""
