"""The hidden checks, one module per unit, named as the unit (``linear.py`` for unit ``linear``).

Each module exports ``CHECKS``: its unit's hidden checks, with the seeds, cases and settings only
they use. The registry (:mod:`autograder.units`) adds them to their units, each part's hidden
checks right after its public ones. The student release leaves this package out entirely, so its
grader runs the public checks only and no hidden input, seed or id reaches students
(docs/release.md).
"""

#: The salt mixed into every public case builder's seed to draw the **fresh inputs** on which the
#: repository also grades public reference checks (:mod:`autograder.evidence.fresh`). It lives here
#: because the release leaves this package out: without it, the fresh inputs cannot be drawn, so the
#: release's fixtures cannot be replayed onto them. Changing it changes those inputs (not the public
#: ones, the fixtures or any score of correct code).
FRESH_INPUT_SALT = 0x5EED_F4E5_1B7A_2C93
