"""Replace this process with a program's own executable, once the argv is resolved and checked.

uWSGI is a C program, and uvicorn with several workers spawns fresh interpreters that share
nothing with the process that started them: for both, keeping ``manage.py`` (and the Django
it loaded) alive as their parent only costs memory and start-up time. After validation the
process becomes the program's own CLI, with the same PID, so signals from the supervisor or
the platform reach the program directly.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import NoReturn


def project_environment() -> dict[str, str]:
    """This environment, with the project's ``sys.path`` entries first on PYTHONPATH.

    The new program must import the project exactly as ``manage.py`` did, from wherever
    ``manage.py`` was started.
    """
    env = dict(os.environ)
    prefixes = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix})
    project = [p or os.getcwd() for p in sys.path if not (p and p.startswith(prefixes))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([*project, *filter(None, [env.get("PYTHONPATH")])]))
    return env


def replace_process(executable: str, argv: Sequence[str]) -> NoReturn:
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(executable, list(argv), project_environment())  # noqa: S606 - the program replaces us
