"""Environments in worker processes, several per process: a stable-baselines3 `VecEnv` (public API only).

SB3's `SubprocVecEnv` runs one environment per process, so every control step costs one pipe round trip
per environment, and with more environments than cores the processes take turns on the cores.
`ProcessVecEnv` splits `n` environments into `workers` groups; the last group runs in the caller's
process (stepping while the others do, so the trainer's process is not idle and one process fewer
has to be woken each step), each other group in a worker process that steps it in a loop (auto-reset as `DummyVecEnv` does: `terminal_observation` and `TimeLimit.truncated` in the info)
and answers with the stacked observations, one message per worker and step. The generator's forward
pass in the trainer's process is then one batched call over all `n` environments.

Determinism: environment k gets the same seed and the same action as in a `DummyVecEnv` of the same
environments, so a run gives the same result bit for bit whatever the number of workers (tested).

`timing` accumulates where the time of the steps goes (seconds): `env` (the slowest worker's
environment steps, per step), `physics` (that worker's engine time within it, when its environments
report `info['physics_s']`), `wait` (from sending the actions to having every answer: `env` plus the
pipe and pickling, i.e. IPC) and `steps` (step calls).
"""

from __future__ import annotations

import multiprocessing as mp
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import CloudpickleWrapper


def _handle(envs: list[gym.Env], cmd: str, data: Any) -> Any:
    """One command on a group of environments (in a worker process, or in the caller's for the local group)."""
    if cmd == "step":
        t0 = time.perf_counter()
        obs, rews, dones, infos = [], [], [], []
        physics = 0.0
        for env, a in zip(envs, data):
            o, r, term, trunc, info = env.step(a)
            physics += info.get("physics_s", 0.0)
            done = term or trunc
            info["TimeLimit.truncated"] = trunc and not term
            if done:
                info["terminal_observation"] = o
                o, _ = env.reset()
            obs.append(o)
            rews.append(r)
            dones.append(done)
            infos.append(info)
        return (np.stack(obs), np.array(rews, np.float32), np.array(dones, bool), infos,
                time.perf_counter() - t0, physics)
    if cmd == "reset":
        seeds, options = data
        res = [env.reset(seed=s, options=o) for env, s, o in zip(envs, seeds, options)]
        return np.stack([r[0] for r in res]), [r[1] for r in res]
    if cmd == "env_method":
        name, args, kwargs, idx = data
        return [getattr(envs[i], name)(*args, **kwargs) for i in idx]
    if cmd == "get_attr":
        name, idx = data
        return [getattr(envs[i], name) for i in idx]
    if cmd == "set_attr":
        name, value, idx = data
        for i in idx:
            setattr(envs[i], name, value)
        return None
    if cmd == "close":
        for env in envs:
            env.close()
        return None
    raise ValueError(f"unknown command {cmd!r}")


def _worker(remote, parent_remote, fns: CloudpickleWrapper) -> None:
    """A worker process's loop. A forked worker inherits the caller's signal handlers (the CLI's raise
    on SIGINT/SIGTERM, which would print a traceback from the worker): Ctrl-C, sent to the whole
    process group, is the caller's to handle (it closes the workers), and SIGTERM (the caller's exit
    terminates its daemonic workers) ends the worker quietly. A caller that closed its end of the pipe
    while a command was under way (interrupted in the middle of a step, it closes the workers without
    waiting for every answer) ends the worker quietly too, without a BrokenPipeError traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent_remote.close()
    import torch  # a policy behaviour runs torch on single observations: one thread per worker

    torch.set_num_threads(1)
    envs: list[gym.Env] = []
    try:
        envs = [fn() for fn in fns.var]
        remote.send((True, None))
    except Exception:
        remote.send((False, traceback.format_exc(limit=8)))
        remote.close()
        return
    while True:
        try:
            cmd, data = remote.recv()
        except (EOFError, KeyboardInterrupt):
            break
        try:
            answer = (True, _handle(envs, cmd, data))
        except Exception:
            answer = (False, traceback.format_exc(limit=8))
        try:
            remote.send(answer)
        except OSError:  # the caller has gone (interrupted while this worker stepped): nobody to answer
            break
        if cmd == "close":
            break
    remote.close()


class _Local:
    """The group of environments that runs in the caller's process, behind the same send/recv interface as
    a worker's pipe: `send` runs the command at once (after the workers were sent theirs, so that both
    work at the same time), `recv` returns its answer."""

    def __init__(self, env_fns: Sequence[Callable[[], gym.Env]]):
        self.envs = [fn() for fn in env_fns]
        self.answer: Any = (True, None)

    def send(self, msg: tuple[str, Any]) -> None:
        try:
            self.answer = (True, _handle(self.envs, *msg))
        except Exception:
            self.answer = (False, traceback.format_exc(limit=8))

    def recv(self) -> Any:
        return self.answer

    def close(self) -> None:
        pass


class ProcessVecEnv(VecEnv):
    """`n = len(env_fns)` environments in `workers` processes (1 <= workers <= n; groups as equal as
    possible, in order: measured fastest against a smaller group for the caller), the last group in the caller's process (it steps while the worker processes
    step theirs: `workers - 1` processes are started, and none wakes for it). `start_method`: multiprocessing's; default 'fork' where available (as torch's
    DataLoader: a worker starts in milliseconds with the trainer's modules already imported, and needs
    no `if __name__ == "__main__"` guard in the caller's script; a worker uses no lock or thread of the
    trainer's), else 'spawn'.
    An exception in a worker is raised here as a RuntimeError carrying the worker's traceback."""

    def __init__(self, env_fns: Sequence[Callable[[], gym.Env]], workers: int, start_method: str | None = None):
        n = len(env_fns)
        if not 1 <= workers <= n:
            raise ValueError(f"workers must be in 1..{n} (the number of environments), not {workers}")
        if start_method is None:
            start_method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        ctx: Any = mp.get_context(start_method)
        self.groups = [list(g) for g in np.array_split(np.arange(n), workers)]
        self.where = [(w, j) for w, g in enumerate(self.groups) for j in range(len(g))]  # env -> (worker, slot)
        self.remotes: list[Any] = []
        self.processes: list[Any] = []
        for g in self.groups[:-1]:
            remote, work_remote = ctx.Pipe()
            p = ctx.Process(target=_worker, args=(work_remote, remote, CloudpickleWrapper([env_fns[k] for k in g])),
                            daemon=True)
            p.start()
            work_remote.close()
            self.remotes.append(remote)
            self.processes.append(p)
        self.closed = False
        answers = [r.recv() for r in self.remotes]  # each worker built its environments (or raised)
        try:  # the last group: in this process
            self.remotes.append(_Local([env_fns[k] for k in self.groups[-1]]))
        except Exception:
            self.remotes.append(_Local([]))
            answers.append((False, traceback.format_exc(limit=8)))
        failed = [out for ok, out in answers if not ok]
        if failed:
            self.close()
            raise RuntimeError(f"an environment worker failed:\n{failed[0]}")
        obs_space, act_space = self._call(0, "get_attr", ("observation_space", [0]))[0], \
            self._call(0, "get_attr", ("action_space", [0]))[0]
        super().__init__(n, obs_space, act_space)
        self.pending_seeds: list[int | None] = [None] * n
        self.pending_options: list[dict] = [{} for _ in range(n)]
        self.timing = {"env": 0.0, "physics": 0.0, "wait": 0.0, "steps": 0}
        self.t_sent = 0.0

    # -- plumbing ---------------------------------------------------------------------------------------
    def _answer(self, remote) -> Any:
        ok, out = remote.recv()
        if not ok:
            raise RuntimeError(f"an environment worker failed:\n{out}")
        return out

    def _call(self, w: int, cmd: str, data: Any) -> Any:
        self.remotes[w].send((cmd, data))
        return self._answer(self.remotes[w])

    def _by_worker(self, indices) -> dict[int, list[tuple[int, int]]]:
        """{worker: [(position in `indices`, slot in the worker)]} for the environment indices."""
        out: dict[int, list[tuple[int, int]]] = {}
        for pos, k in enumerate(self.indices(indices)):
            w, j = self.where[k]
            out.setdefault(w, []).append((pos, j))
        return out

    def indices(self, indices) -> list[int]:
        """None -> every environment, an int -> that one, else the given indices."""
        if indices is None:
            return list(range(self.num_envs))
        return [int(indices)] if isinstance(indices, (int, np.integer)) else [int(k) for k in indices]

    def _gather(self, cmd: str, indices, make_data: Callable[[list[int]], Any]) -> list[Any]:
        by = self._by_worker(indices)
        for w, items in by.items():
            self.remotes[w].send((cmd, make_data([j for _, j in items])))
        res: list[Any] = [None] * sum(len(v) for v in by.values())
        for w, items in by.items():
            out = self._answer(self.remotes[w])
            for (pos, _), v in zip(items, out if out is not None else [None] * len(items)):
                res[pos] = v
        return res

    # -- VecEnv API ---------------------------------------------------------------------------------
    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Seeds for the next reset: environment k gets seed + k (as every SB3 VecEnv)."""
        if seed is None:
            seed = int(np.random.randint(0, np.iinfo(np.uint32).max, dtype=np.uint32))
        self.pending_seeds = [seed + k for k in range(self.num_envs)]
        return list(self.pending_seeds)

    def set_options(self, options: list[dict] | dict | None = None) -> None:
        if options is None:
            options = {}
        self.pending_options = [dict(options) for _ in range(self.num_envs)] if isinstance(options, dict) \
            else [dict(o) for o in options]

    def reset(self):
        for w, g in enumerate(self.groups):
            self.remotes[w].send(("reset", ([self.pending_seeds[k] for k in g], [self.pending_options[k] for k in g])))
        obs, infos = [], []
        for r in self.remotes:
            o, i = self._answer(r)
            obs.append(o)
            infos += i
        self.reset_infos = infos
        self.pending_seeds = [None] * self.num_envs
        self.pending_options = [{} for _ in range(self.num_envs)]
        return np.concatenate(obs)

    def step_async(self, actions: np.ndarray) -> None:
        self.t_sent = time.perf_counter()
        actions = np.asarray(actions)
        for w, g in enumerate(self.groups):
            self.remotes[w].send(("step", actions[g[0]:g[-1] + 1]))

    def step_wait(self):
        obs, rews, dones, infos = [], [], [], []
        slowest, physics = 0.0, 0.0
        for r in self.remotes:
            o, rw, d, i, t_env, t_phys = self._answer(r)
            obs.append(o)
            rews.append(rw)
            dones.append(d)
            infos += i
            if t_env > slowest:
                slowest, physics = t_env, t_phys
        tm = self.timing
        tm["wait"] += time.perf_counter() - self.t_sent
        tm["env"] += slowest
        tm["physics"] += physics
        tm["steps"] += 1
        return np.concatenate(obs), np.concatenate(rews), np.concatenate(dones), infos

    def close(self) -> None:
        if self.closed:
            return
        for r, p in zip(self.remotes, [*self.processes, None]):
            try:
                if p is None or p.is_alive():
                    r.send(("close", None))
                    r.recv()
            except (OSError, EOFError):
                pass
            r.close()
        for p in self.processes:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
        self.closed = True

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        return self._gather("get_attr", indices, lambda js: (attr_name, js))

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        self._gather("set_attr", indices, lambda js: (attr_name, value, js))

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list[Any]:
        return self._gather("env_method", indices, lambda js: (method_name, method_args, method_kwargs, js))

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        """The trainer's environments are never wrapped (no Monitor): False for each."""
        return [False] * len(self.indices(indices))

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None] * self.num_envs
