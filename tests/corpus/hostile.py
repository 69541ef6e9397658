"""Hostile and broken submissions of Unit 1, each with the exact score and the message it must get.

Each entry edits a copy of the reference: ``predict_body`` replaces the body of ``predict``;
``prefix`` is inserted after ``import numpy as np`` (runs at import time); ``source`` replaces the
file. ``score`` is the exact total the submission must get, ``messages`` fragments that specific
checks' messages must contain.

Score arithmetic for Unit 1 (30 points): the checks that never run the student's predict are
loss (4), step (3) and collapse (3): 10 points. Every other check runs predict (directly, through
the student's loss_gradients, or through fit), so a predict that crashes leaves exactly 10.
The checks a submission with a print flood or warnings passes are all 30.
"""

from __future__ import annotations

from dataclasses import dataclass, field

INDEPENDENT_OF_PREDICT = 10
FULL = 30
#: A predict without the bias (what the cheaters below return) still returns an array (1), leaves
#: its inputs alone (1), and fit still diverges at a huge learning rate (2) and is deterministic (1).
MISSING_BIAS_KEEPS = 5


@dataclass(frozen=True)
class Hostile:
    name: str
    score: float
    messages: dict[str, str] = field(default_factory=dict)
    predict_body: str | None = None
    prefix: str | None = None
    source: str | bytes | None = None
    #: The layer that refuses a containment attack where the grader is not root (as root every one
    #: is refused): "always" (works for any user), "hiding" (a private mount namespace: needs user
    #: namespaces; where the OS refuses them the report says so and the attack gets through),
    #: "package files" / "site-packages" (the kernel's file permissions: the attack gets through
    #: where the grader's user may write them, e.g. a checkout or virtualenv of its own).
    refused_by: str = "always"


HOSTILE = [
    Hostile("infinite loop", INDEPENDENT_OF_PREDICT, {"linear.predict.values": "timed out after 1 s"},
            predict_body="    while True:\n        pass\n"),
    Hostile("segfault through ctypes", INDEPENDENT_OF_PREDICT, {"linear.predict.values": "SIGSEGV"},
            predict_body="    import ctypes\n    ctypes.string_at(0)\n"),
    Hostile("os._exit", INDEPENDENT_OF_PREDICT, {"linear.predict.values": "exited with status 7"},
            predict_body="    import os\n    os._exit(7)\n"),
    Hostile("sys.exit at call time", INDEPENDENT_OF_PREDICT, {"linear.predict.values": "called sys.exit(3)"},
            predict_body="    import sys\n    sys.exit(3)\n"),
    Hostile("KeyboardInterrupt at call time", INDEPENDENT_OF_PREDICT,
            {"linear.predict.values": "raised KeyboardInterrupt"}, predict_body="    raise KeyboardInterrupt\n"),
    Hostile("SystemExit raised directly", INDEPENDENT_OF_PREDICT, {"linear.predict.values": "called sys.exit(None)"},
            predict_body="    raise SystemExit\n"),
    Hostile("recursion bomb", INDEPENDENT_OF_PREDICT, {"linear.predict.values": "recursed too deeply"},
            predict_body="    def f(n):\n        return f(n + 1)\n    return f(0)\n"),
    Hostile("huge allocation", INDEPENDENT_OF_PREDICT, {"linear.predict.values": "memory"},
            predict_body="    import numpy\n    return numpy.ones(10**11)\n"),
    Hostile("fork bomb in a loop (killed with its process group)", INDEPENDENT_OF_PREDICT,
            {"linear.predict.values": "timed out"},
            predict_body="    import os, time\n    for _ in range(3):\n        os.fork()\n    time.sleep(60)\n"),
    Hostile("print flood at import time (truncated, no cost)", FULL,
            prefix="for _ in range(50_000):\n    print('spam' * 20)\n"),
    Hostile("stderr warnings (no cost)", FULL,
            predict_body="    import warnings\n    warnings.warn('careful')\n    return X @ W + b\n"),
    Hostile("monkeypatches numpy to pass comparisons", INDEPENDENT_OF_PREDICT + MISSING_BIAS_KEEPS,
            {"linear.predict.values": "does not match"},
            predict_body="    np.allclose = lambda *a, **k: True\n    np.array_equal = lambda *a, **k: True\n"
                         "    return X @ W\n"),
    Hostile("monkeypatches the grader and writes fake results", INDEPENDENT_OF_PREDICT + MISSING_BIAS_KEEPS,
            {"linear.predict.values": "does not match"},
            predict_body="    import autograder.tolerance, json, os, sys\n"
                         "    autograder.tolerance.compare = lambda *a, **k: None\n"
                         "    sys.excepthook = lambda *a: None\n"
                         "    with open(os.path.join(os.path.dirname(__file__), 'results.json'), 'w') as f:\n"
                         "        json.dump({'score': 100, 'max_score': 100}, f)\n"
                         "    return X @ W\n"),
    Hostile("imports torch", INDEPENDENT_OF_PREDICT, {"linear.predict.values": "importing torch is not allowed"},
            predict_body="    import torch\n    return X @ W + b\n"),
    Hostile("returns a string", INDEPENDENT_OF_PREDICT, {"linear.predict.values": "got a str"},
            predict_body="    return 'X @ W + b'\n"),
    Hostile("forgets to return", INDEPENDENT_OF_PREDICT,
            {"linear.predict.values": "is None: is a return statement missing?"}, predict_body="    X @ W + b\n"),
    Hostile("sys.exit at import time", 0, {"linear.predict.values": "called sys.exit(1) while importing"},
            prefix="import sys\nsys.exit(1)\n"),
    Hostile("os._exit at import time", 0, {"linear.loss.values": "exited with status 0"},
            prefix="import os\nos._exit(0)\n"),
    Hostile("exception at import time", 0, {"linear.predict.values": "raised RuntimeError: boom while importing"},
            prefix="raise RuntimeError('boom')\n"),
    Hostile("syntax error", 0, {"linear.collapse.values": "syntax error"}, source="def predict(X, W, b)\n    return X\n"),
    Hostile("binary file", 0, {"linear.predict.values": "not a Python text file"}, source=b"\0\1\2binary"),
    Hostile("not UTF-8", 0, {"linear.predict.values": "is not UTF-8 text"}, source=b"x = '\xff\xfe'\n"),
    Hostile("empty file", 0, {"linear.predict.values": "no function or class named 'predict'"}, source=""),
]


def _escapes_or_passes(attack: str) -> str:
    """A predict that tries ``attack`` (code that sets ``escaped`` to what it got) and fails if it
    worked: the submission scores FULL only if the kernel, the bans or the view refuse the attack."""
    lines = "".join("    " + line + "\n" for line in attack.strip().splitlines())
    return ("    import os, ctypes\n    escaped = None\n" + lines
            + "    if escaped:\n        raise RuntimeError('escaped the sandbox: ' + repr(escaped)[:300])\n"
            + "    return X @ W + b\n")


#: Attacks from issue 12: each must be refused, so each submission gets full marks.
CONTAINMENT = [
    Hostile("unmounts the tmpfs that hides solutions/", FULL, refused_by="hiding", predict_body=_escapes_or_passes("""
from autograder.paths import solutions_dir
libc = ctypes.CDLL(None, use_errno=True)
libc.umount2(str(solutions_dir()).encode(), 2)
escaped = os.listdir(solutions_dir())
""")),
    Hostile("reads the solutions through /proc/<parent>/root", FULL, predict_body=_escapes_or_passes("""
from autograder.paths import solutions_dir
try:
    escaped = open(f'/proc/{os.getppid()}/root{solutions_dir()}/linear_model.py').read()
except OSError:
    pass
""")),
    Hostile("lists the parent's pipes in /proc/<parent>/fd (to write a pickle)", FULL, predict_body=_escapes_or_passes("""
try:
    escaped = os.listdir(f'/proc/{os.getppid()}/fd')
except OSError:
    pass
""")),
    Hostile("prints the hidden checks' source", FULL, refused_by="hiding", predict_body=_escapes_or_passes("""
import autograder.units
folder = os.path.join(os.path.dirname(autograder.units.__file__), 'hidden')
try:
    escaped = open(os.path.join(folder, 'linear.py')).read()
except OSError:
    pass
""")),
    Hostile("appends to the installed grader package", FULL, refused_by="package files", predict_body=_escapes_or_passes("""
import autograder
try:
    with open(autograder.__file__, 'a') as package:
        escaped = 'appended to ' + autograder.__file__
except OSError:
    pass
""")),
    Hostile("writes a .pth into site-packages", FULL, refused_by="site-packages", predict_body=_escapes_or_passes("""
import numpy
site = os.path.dirname(os.path.dirname(numpy.__file__))
try:
    with open(os.path.join(site, 'zz_hostile_was_here.pth'), 'x') as pth:
        escaped = 'wrote a .pth into ' + site
except OSError:
    pass
""")),
    Hostile("reads the grader's environment", FULL, predict_body=_escapes_or_passes("""
allowed = {'PATH', 'HOME', 'TMPDIR', 'LANG', 'LANGUAGE', 'TZ', 'PYTHONHASHSEED', 'MPLCONFIGDIR',
           'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'}
escaped = sorted(name for name in os.environ if name not in allowed and not name.startswith('LC_'))
""")),
    Hostile("imports the instructor-only wrong-answer simulators", INDEPENDENT_OF_PREDICT,
            {"linear.predict.values": "autograder.units.instructor holds the grader's own code"},
            predict_body="    import autograder.units.instructor.optimizers\n    return X @ W + b\n"),
    Hostile("imports the hidden checks", INDEPENDENT_OF_PREDICT,
            {"linear.predict.values": "autograder.units.hidden holds the grader's own code"},
            predict_body="    from autograder.units.hidden import linear\n    return X @ W + b\n"),
    Hostile("breakpoint() left in", INDEPENDENT_OF_PREDICT,
            {"linear.predict.values": "remove breakpoint(): the grader runs without a debugger"},
            predict_body="    breakpoint()\n    return X @ W + b\n"),
]
