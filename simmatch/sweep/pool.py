"""Run independent jobs in parallel, each in its own process: on this machine (`--workers N`) or as
Ray tasks on a cluster (`--ray ADDRESS`), with results handed back as they finish.

A job is any picklable top-level function and its arguments (`Task`); the runner knows nothing of
checks (learn-dyn seed grids use the same layer). Each task runs in a forked child process that is
the leader of its own process group: a segfault, an abort, a timeout or an interrupt ends that task
(and every process it started: a check's engine processes) and becomes that task's `Outcome`
(`simmatch.isolation.Outcome`), never the end of the run.

Under Ray each task is a Ray task (`num_cpus=1`, no retries: a crash is a result, not a reason to
run the job again) that runs the very same isolated child inside the Ray worker, so the outcome of a
task is the same locally and on Ray. The model files a job reads must be readable at the same path
on every node (a shared file system); the job's return value comes back to the driver, which alone
writes the outputs.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import resource
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from ..errors import UsageError
from ..isolation import Outcome, _child, ended_without_result

RAY_INSTALL = "pip install 'simmatch[ray]'"


@dataclass(frozen=True)
class Task:
    """One job: `fn(*args)` in its own process, killed after `timeout` seconds (None: no limit).
    `key` names it in the results; `fn` and `args` must be picklable (Ray sends them to a node)."""

    key: str
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    timeout: float | None = None
    quiet: bool = True  # the child's stdout and stderr (engines print there from C) go to the null device


@dataclass
class TaskResult:
    """What became of a task: `outcome` (its value, or the one-line error, `crashed` for a signal or
    a timeout), `seconds` (wall time of the child process), `host` (where it ran), `cpu_s` (CPU
    seconds, user + system, of the task's process and the processes it waited for; None when it
    did not finish)."""

    key: str
    outcome: Outcome
    seconds: float
    host: str = field(default_factory=socket.gethostname)
    cpu_s: float | None = None


def _measured(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """fn(*args) and the CPU seconds this process and its reaped children spent (in the task's child)."""
    value = fn(*args)
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return value, own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


# -- one task in its own process group ------------------------------------------------------------
_live: set[int] = set()  # process-group ids of the running children of this process
_live_lock = threading.Lock()


def _group_child(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...], quiet: bool) -> None:
    os.setsid()  # leader of its own group: a timeout or an interrupt kills the task and its children
    for sig in (signal.SIGINT, signal.SIGTERM):  # the parent's Python handlers are not the child's
        signal.signal(sig, signal.SIG_DFL)
    if quiet:  # a parallel run's terminal is its progress bar: engines' C-level prints do not go there
        with contextlib.suppress(OSError):
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.close(null)
    _child(conn, fn, args, {})


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def kill_running() -> None:
    """Kill every task this process is running now (and the processes they started)."""
    with _live_lock:
        pids = list(_live)
    for pid in pids:
        _kill_group(pid)


def run_in_process(fn: Callable[..., Any], args: tuple[Any, ...] = (), timeout: float | None = None,
                   quiet: bool = True) -> Outcome:
    """`fn(*args)` in a forked child that leads its own process group; its value or what went wrong.

    The group is killed on timeout (Outcome.error 'timed out after T s', crashed) and when the caller
    is interrupted (the interrupt then propagates). A child that dies from a signal gives
    'crashed (SIGSEGV)'; a SimmatchError raised by `fn` gives its one line (crashed False, no
    detail); any other exception gives 'Type: message' with the traceback in `detail`. `quiet`: the
    child's file descriptors 1 and 2 go to the null device (what it has to say is its Outcome)."""
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_group_child, args=(send, fn, args, quiet), daemon=False)
    proc.start()
    send.close()
    assert proc.pid is not None
    with _live_lock:
        _live.add(proc.pid)
    result: Outcome | None = None
    timed_out = False
    try:
        try:
            if recv.poll(timeout):
                result = recv.recv()
            else:
                timed_out = True
        except (EOFError, OSError):
            result = None
        finally:
            recv.close()
        if result is None and not timed_out:
            proc.join(5)  # it closed the pipe without an answer: let it finish dying, for its exit code
    finally:
        # the child is not reaped yet (its pid, the group id, cannot be reused): whatever the task left
        # running (its engine processes) goes with it, on a timeout and an interrupt too
        _kill_group(proc.pid)
        proc.join()
        with _live_lock:
            _live.discard(proc.pid)
    if result is not None:
        return result
    if timed_out:
        return Outcome(False, error=f"timed out after {timeout:g} s", crashed=True)
    return ended_without_result(proc.exitcode, "crashed", "process exited")


def _timed(task: Task) -> TaskResult:
    t0 = time.perf_counter()
    outcome = run_in_process(_measured, (task.fn, *task.args), task.timeout, task.quiet)
    cpu = None
    if outcome.ok:
        outcome.value, cpu = outcome.value
    return TaskResult(task.key, outcome, time.perf_counter() - t0, cpu_s=cpu)


# -- local pool -----------------------------------------------------------------------------------
def run_local(tasks: Iterable[Task], workers: int) -> Iterator[TaskResult]:
    """Run `tasks`, `workers` at a time on this machine; yield each result as it finishes (in
    completion order). Leaving the iterator early (an interrupt) kills the running tasks."""
    todo = list(tasks)
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="simmatch-task")
    pending: set[Future[TaskResult]] = set()
    try:
        it = iter(todo)
        for task in it:  # keep at most `workers` submitted: the rest wait here (cheap to cancel)
            pending.add(pool.submit(_timed, task))
            if len(pending) >= max(1, workers):
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                nxt = next(it, None)
                if nxt is not None:
                    pending.add(pool.submit(_timed, nxt))
                yield fut.result()
    finally:
        for fut in pending:
            fut.cancel()
        kill_running()
        pool.shutdown(wait=True)


# -- Ray --------------------------------------------------------------------------------------------
def ray_module() -> Any:
    """The `ray` package; UsageError (one line saying how to install it) when it is missing."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"--ray: Ray is not installed: {RAY_INSTALL}") from None
    return ray


def _ray_task(task: Task) -> TaskResult:
    return _timed(task)


def _reachable(address: str, timeout: float = 5.0) -> None:
    """A TCP connection to the cluster's head ('ray://host:port' or 'host:port') can be opened; else
    UsageError (Ray itself would retry for minutes, printing as it goes)."""
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise UsageError(f"--ray {address}: give host:port, ray://host:port, 'auto' or 'local'")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise UsageError(f"--ray {address}: cannot connect to a Ray cluster there: {exc.strerror or exc}") from None


def ray_connect(address: str, num_cpus: int | None = None) -> Any:
    """Connect this process to Ray: an address (`ray://host:10001`, `host:6379`) or `auto` (the
    cluster this machine belongs to, as `ray start` left it); `local` starts a private instance with
    `num_cpus` CPUs. An instance this process already started (`ray.init` in a test) is used as is.
    Raises UsageError naming the address when Ray cannot connect."""
    ray = ray_module()
    if ray.is_initialized():
        return ray
    if address not in ("auto", "local"):
        _reachable(address)
    kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    try:
        if address == "local":
            ray.init(num_cpus=num_cpus, **kw)
        else:
            ray.init(address=address, **kw)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise UsageError(f"--ray {address}: cannot connect to a Ray cluster: {first}") from None
    return ray


def run_ray(tasks: Iterable[Task], address: str = "auto", num_cpus: int | None = None) -> Iterator[TaskResult]:
    """Run `tasks` as Ray tasks (one CPU each, no retries); yield each result as it finishes.
    Leaving the iterator early cancels the tasks that have not finished."""
    ray = ray_connect(address, num_cpus)
    remote = ray.remote(num_cpus=1, max_retries=0)(_ray_task)
    refs = {remote.remote(t): t for t in tasks}
    pending = list(refs)
    try:
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                try:
                    yield ray.get(ref)
                except ray.exceptions.RayError as exc:  # the worker itself died (node lost, OOM killer)
                    first = (str(exc).strip().splitlines() or [""])[0]
                    yield TaskResult(refs[ref].key, Outcome(False, error=f"Ray task failed: {first}", crashed=True),
                                     0.0, "?")
    finally:
        for ref in pending:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)


def run_tasks(tasks: Iterable[Task], workers: int, ray: str | None = None) -> Iterator[TaskResult]:
    """`run_ray(tasks, ray)` when `ray` names a cluster, else `run_local(tasks, workers)`."""
    if ray:
        return run_ray(tasks, ray, num_cpus=workers)
    return run_local(tasks, workers)


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)
