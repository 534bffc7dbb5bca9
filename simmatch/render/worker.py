"""The process a MuJoCo drawing job runs in (`select._spawned`): reads the pickled (job, renderer,
args) from stdin, runs `job(renderer, *args)` and writes the pickled ('ok' | 'unavailable' | 'error'
| 'bug', value) to stdout; anything the engines or GL libraries print goes to stderr."""

from __future__ import annotations

import os
import pickle
import sys
import traceback


def main() -> None:
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # C libraries print to fd 1: keep the answer channel clean
    job, renderer, args = pickle.loads(sys.stdin.buffer.read())
    from ..errors import SimmatchError
    from .select import RendererUnavailable

    try:
        answer = ("ok", job(renderer, *args))
    except RendererUnavailable as exc:
        answer = ("unavailable", str(exc))
    except SimmatchError as exc:
        answer = ("error", str(exc))
    except Exception as exc:  # the process boundary: report everything
        answer = ("bug", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    out.write(pickle.dumps(answer))
    out.flush()


if __name__ == "__main__":
    main()
