"""Deterministic interruption points for tests.

``checkpoint(name)`` does nothing unless the environment variable ``NUSKYBGD_TEST_KILL_AT``
names this point; then it sends SIGKILL to the current process, exactly as ``kill -9`` from
outside would, so tests can interrupt a real run at a known moment.

``NUSKYBGD_TEST_KILL_AT=name`` kills at the first time ``name`` is reached;
``NUSKYBGD_TEST_KILL_AT=name:N`` kills at the N-th time (1-based).  Several points may be
given separated by commas.  The check is one dictionary lookup, cheap enough for any loop.
"""

from __future__ import annotations

import os
import signal

ENV_KILL_AT = "NUSKYBGD_TEST_KILL_AT"

_hits: dict[str, int] = {}


def checkpoint(name: str) -> None:
    """Kill the process with SIGKILL if ``NUSKYBGD_TEST_KILL_AT`` asks for ``name``.

    Parameters
    ----------
    name : str
        Name of this point, e.g. ``"atomic_set.committed"``.
    """
    spec = os.environ.get(ENV_KILL_AT)
    if not spec:
        return
    for item in spec.split(","):
        point, _, nth = item.strip().partition(":")
        if point != name:
            continue
        count = _hits.get(name, 0) + 1
        _hits[name] = count
        if count >= (int(nth) if nth.isdigit() else 1):
            os.kill(os.getpid(), signal.SIGKILL)
        return
