"""The runner: the step instances of one observation, their status, and running them with the
session recording every transition.

Statuses (the wizard's sidebar, ``nuskybgd run``): ``pending`` (an input is missing or an earlier
step is not done), ``ready``, ``running``, ``done``, ``stale`` (done, but an input's content, a
parameter or an earlier step changed since) and ``failed``.

Overwrite rule (ARCHITECTURE §10): the runner replaces an output only when the session itself
recorded it and the file still has the recorded content hash (a stale rerun), or when the step's
previous run was interrupted after writing it; anything else needs ``overwrite=True``.  User
inputs are never modified.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nuskybgd.errors import InputError, NuskybgdError
from nuskybgd.events import Cancelled, Reporter
from nuskybgd.pipeline.params import Param
from nuskybgd.pipeline.plan import StepInstance, observation_plan, step_class
from nuskybgd.pipeline.session import Session, file_record, now_utc
from nuskybgd.pipeline.stages import STAGES
from nuskybgd.pipeline.step import Step, StepResult
from nuskybgd.testhooks import checkpoint

__all__ = ["Runner", "STATUSES"]

STATUSES = ("pending", "ready", "running", "done", "stale", "failed")


def _plain_params(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        if v is None:
            continue
        out[k] = [str(x) for x in v] if isinstance(v, (tuple, list)) else (str(v) if isinstance(v, Path) else v)
    return out


def _with_defaults(inst: StepInstance, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` completed with the step's declared defaults, plain: a value stated explicitly
    and the same value left to its default are the same run."""
    declared = {p.name: p.default for p in step_class(inst.step).params}
    return _plain_params({**declared, **params})


def _plain_result(values: dict[str, Any]) -> dict[str, Any]:
    """The JSON/TOML-plain scalars (and lists of them) of a step's result values."""
    ok = (str, int, float, bool)
    out = {}
    for k, v in values.items():
        if isinstance(v, ok):
            out[k] = v
        elif isinstance(v, (list, tuple)) and all(isinstance(x, ok) for x in v):
            out[k] = list(v)
    return out


class Runner:
    """Run and track the step instances of one observation's session.

    Parameters
    ----------
    session : Session
        The open session (holding its lock).
    overwrite : bool
        Replace outputs the session did not write (``--overwrite``).
    """

    def __init__(self, session: Session, overwrite: bool = False) -> None:
        self.session = session
        self.overwrite = overwrite
        obs = session.observation
        self.instances: list[StepInstance] = observation_plan(str(obs["seqid"]), tuple(obs.get("modules", "AB")))
        for inst in self.instances:
            rec = session.record(inst.key)
            if rec and rec.get("params"):
                inst.params.update(rec["params"])
                inst.retitle()
        self._running: set[str] = set()
        self._outputs_cache: dict[str, list[Path]] = {}

    # -- the plan --------------------------------------------------------------------------

    @property
    def observation(self) -> dict[str, Any]:
        """seqid, modules, target, event_dir, saved_at and the calibration of the products."""
        obs = dict(self.session.observation)
        obs["event_dir"] = str(self.session.folder)
        obs["saved_at"] = self.session.saved_at
        calibs = {(self.session.record(i.key) or {}).get("calibration") for i in self.instances}
        calibs.discard(None)
        obs.setdefault("calibration", ", ".join(sorted(calibs)) if calibs else "not used yet")
        return obs

    def instance(self, key: str) -> StepInstance:
        """The step instance ``key``."""
        for inst in self.instances:
            if inst.key == key:
                return inst
        raise KeyError(f"no step {key!r} in this session")

    def stage_instances(self, stage_id: str) -> list[StepInstance]:
        """The instances of one stage."""
        return [i for i in self.instances if i.stage == stage_id]

    def declared_params(self, key: str) -> list[Param]:
        """The declared parameters of ``key``'s step."""
        return list(step_class(self.instance(key).step).params)

    def build(self, key: str, display: bool = False, **extra: Any) -> Step:
        """The step of ``key`` with its parameters; paths made absolute unless ``display``."""
        inst = self.instance(key)
        cls = step_class(inst.step)
        values = dict(inst.params)
        if not display:
            kinds = {p.name: p.kind for p in cls.params}
            for name, value in list(values.items()):
                if kinds.get(name) == "path":
                    values[name] = self._absolute(value)
                elif kinds.get(name) == "paths":
                    values[name] = [self._absolute(v) for v in value]
        values.update(extra)
        return cls(**values)

    def _absolute(self, value: Any) -> Path:
        p = Path(value)
        return p if p.is_absolute() else self.session.folder / p

    def command_line(self, key: str) -> str:
        """The equivalent ``nuskybgd …`` command, run from the observation's ``event_cl/``."""
        try:
            return self.build(key, display=True).command_line()
        except NuskybgdError as exc:
            return f"(parameters need fixing: {exc})"

    def outputs(self, key: str) -> list[Path]:
        """The files the session recorded as written by ``key`` (absolute paths, existing or not)."""
        return [self._absolute(rel) for rel in self.session.file_records(key, "outputs")]

    @property
    def current(self) -> str | None:
        """The step instance the user last worked on (saved in the session), or None."""
        key = self.session.observation_value("current")
        return key if key in {i.key for i in self.instances} else None

    def set_current(self, key: str) -> None:
        """Remember ``key`` as the step the user is on (a resume opens it)."""
        self.instance(key)
        if self.session.observation_value("current") != key:
            self.session.set_observation_value("current", key)

    def set_params(self, key: str, **values: Any) -> None:
        """Change parameters of ``key`` (validated: InputError naming the option), record them in
        the session; the step and everything after it become stale once it had run."""
        inst = self.instance(key)
        candidate = {**inst.params, **values}
        step_class(inst.step)(**{k: v for k, v in candidate.items() if v is not None})  # validates
        inst.params = {k: v for k, v in candidate.items() if v is not None}
        inst.retitle()              # a title showing a parameter (the band) follows it
        self._outputs_cache.pop(key, None)
        self.session.update(key, params=_plain_params(inst.params))

    # -- status ----------------------------------------------------------------------------

    def _outputs(self, key: str) -> list[Path]:
        if key not in self._outputs_cache:
            try:
                self._outputs_cache[key] = [Path(os.path.abspath(p)) for p in self.build(key).outputs()]
            except NuskybgdError:
                self._outputs_cache[key] = []
        return self._outputs_cache[key]

    def producers(self, key: str) -> list[str]:
        """Keys of the earlier instances whose outputs ``key`` reads."""
        try:
            wanted = {Path(os.path.abspath(p)) for p in self.build(key).inputs()}
        except NuskybgdError:
            return []
        me = self.instance(key)
        # a step whose inputs depend on the data (config reads the regions and spectra present)
        # names the stages it waits for, so it is not "ready" before they ran
        after = set(getattr(step_class(me.step), "after_stages", ()))
        out = []
        for inst in self.instances:
            if inst.key == key:
                break
            same_module = not me.module or not inst.module or inst.module == me.module
            if wanted.intersection(self._outputs(inst.key)) or (inst.stage in after and same_module):
                out.append(inst.key)
        return out

    def statuses(self) -> dict[str, str]:
        """The status of every instance (one pass in plan order)."""
        result: dict[str, str] = {}
        for inst in self.instances:
            result[inst.key] = self._status(inst, result)
        return result

    def status(self, key: str) -> str:
        """The status of one instance."""
        return self.statuses()[key]

    def stage_status(self, stage_id: str, statuses: dict[str, str] | None = None) -> str:
        """One status for a stage: running, failed, stale, pending/ready before done."""
        statuses = statuses or self.statuses()
        found = [statuses[i.key] for i in self.stage_instances(stage_id)]
        if not found:
            return "pending"
        for s in ("running", "failed", "stale"):
            if s in found:
                return s
        if all(s == "done" for s in found):
            return "done"
        return "ready" if any(s in ("ready", "done") for s in found) else "pending"

    def _status(self, inst: StepInstance, earlier: dict[str, str]) -> str:
        if inst.key in self._running:
            return "running"
        rec = self.session.record(inst.key) or {}
        try:
            step = self.build(inst.key)
        except NuskybgdError:
            return "failed"
        producers_done = all(earlier.get(k) == "done" for k in self.producers(inst.key))
        if rec.get("status") == "done":
            ran_with = rec.get("run_params", rec.get("params", {}))  # set_params changes only "params"
            if not producers_done or _with_defaults(inst, ran_with) != _with_defaults(inst, inst.params):
                return "stale"
            if self._files_changed(inst.key, "inputs") or self._files_changed(inst.key, "outputs", missing_only=True):
                return "stale"
            return "done"
        if rec.get("status") == "failed":
            return "failed"
        inputs_there = all(Path(p).exists() for p in step.inputs())
        return "ready" if producers_done and inputs_there else "pending"

    def _files_changed(self, key: str, which: str, missing_only: bool = False) -> bool:
        for rel, known in self.session.file_records(key, which).items():
            path = self._absolute(rel)
            now = file_record(path, self.session.folder, known)
            if now is None:
                return True
            if not missing_only and now.sha256 != known.sha256:
                return True
        return False

    # -- running ---------------------------------------------------------------------------

    def _check_outputs(self, key: str, outputs: list[Path]) -> bool:
        """Whether existing outputs may be replaced (the overwrite rule); raises when not."""
        rec = self.session.record(key) or {}
        recorded = self.session.file_records(key, "outputs")
        started_ns = int(rec.get("started_ns", 0))
        existing = [p for p in outputs if p.exists()]
        for p in existing:
            if p.is_dir():
                raise InputError(f"{p} is a folder where step {key} writes a file; move it away.", p)
            now = file_record(p, self.session.folder)
            known = recorded.get(now.path) if now else None
            ours = known is not None and now.sha256 == known.sha256
            interrupted = rec.get("status") in ("running", "cancelled") and p.stat().st_mtime_ns >= started_ns
            if not (ours or interrupted or self.overwrite):
                raise InputError(f"{p} exists and was not written by this session, or was changed since; move it "
                                 "away, or pass --overwrite to replace it.", p)
        return bool(existing)

    def run(self, key: str, reporter: Reporter | None = None) -> StepResult:
        """Run one instance now (blocking), recording each transition in the session.

        Raises
        ------
        InputError
            An input is missing (naming the step that makes it) or an output may not be replaced.
        Cancelled
            The reporter's token was cancelled; outputs of this run are removed.
        """
        rep = reporter if reporter is not None else Reporter()
        inst = self.instance(key)
        step = self.build(key)
        statuses = self.statuses()
        for producer in self.producers(key):
            if statuses[producer] != "done":
                raise InputError(f"step '{key}' needs the outputs of '{producer}' ({self.instance(producer).title}); "
                                 "run that step first.")
        missing = step.missing_inputs()
        if missing:
            hint = getattr(step, "missing_input_help", lambda p: None)(missing[0])  # a user-made input
            raise InputError(hint or f"step '{key}' needs {missing[0]}, which does not exist; check the observation "
                             "folder.", missing[0])
        outputs = [Path(os.path.abspath(p)) for p in step.outputs()]
        if self._check_outputs(key, outputs) and any(p.name == "overwrite" for p in type(step).params):
            step = self.build(key, overwrite=True)
        for p in outputs:
            p.parent.mkdir(parents=True, exist_ok=True)
        previous = self.session.file_records(key, "outputs")
        started_ns = time.time_ns()
        self.session.update(key, status="running", started=now_utc(), started_ns=started_ns, error=None,
                            params=_plain_params(inst.params), run_params=_plain_params(inst.params))
        self._running.add(key)
        try:
            result = step.run(rep)
            checkpoint("runner.step_done")  # tests: a kill after the work, before the record
        except Cancelled:
            self._remove_new(outputs, started_ns)
            self.session.update(key, status="cancelled", error="cancelled by the user")
            raise
        except NuskybgdError as exc:
            self._remove_new(outputs, started_ns)
            self.session.update(key, status="failed", error=str(exc))
            raise
        except BaseException as exc:
            self._remove_new(outputs, started_ns)
            self.session.update(key, status="failed", error=f"unexpected error: {exc!r}")
            raise
        finally:
            self._running.discard(key)
        reported = [Path(os.path.abspath(p)) for p in result.outputs]
        written = [p for p in dict.fromkeys(reported or outputs) if p.is_file()]  # what this run wrote
        self.session.update(key, status="done", error=None, finished=now_utc(), inputs=self.session.records(step.inputs()),
                            outputs=self.session.records(written), calibration=result.calibration,
                            result=_plain_result(result.values) or None)
        self._remove_left(key, previous, written, rep)
        rep.result(_plain_result(result.values), f"{inst.title}: done")
        self._follow_written(key, outputs, written)
        return result

    def _remove_left(self, key: str, previous: dict, written: list[Path], rep: Reporter) -> None:
        """Remove the files an earlier run of ``key`` wrote and this run did not (a detector now
        skipped), when they still hold the recorded content: the session's own, unchanged products."""
        for rel, known in previous.items():
            path = Path(os.path.abspath(self._absolute(rel)))
            if path in written:
                continue
            now = file_record(path, self.session.folder, known)
            if now is not None and now.sha256 == known.sha256:
                path.unlink()
                rep.log(f"removed {path}: an earlier run of {key} wrote it and this run did not")

    def _follow_written(self, key: str, planned: list[Path], written: list[Path]) -> None:
        """Later steps of the same module that declare ``follows = {param: step name}`` for this
        step get, in that parameter, the files it actually wrote (regions skips detectors)."""
        done = self.instance(key)
        producer = step_class(done.step).name
        made = [self._relative(p) for p in planned if p in set(written)]
        for inst in self.instances[self.instances.index(done) + 1:]:
            if inst.module != done.module:
                continue
            for name, source in getattr(step_class(inst.step), "follows", {}).items():
                if source == producer and [str(v) for v in inst.params.get(name) or []] != made:
                    self.set_params(inst.key, **{name: made})

    def _relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path(os.path.abspath(self.session.folder))))
        except ValueError:
            return str(path)

    @staticmethod
    def _remove_new(outputs: list[Path], started_ns: int) -> None:
        """Remove the outputs a failed or cancelled run wrote (complete files, but not a set)."""
        for p in outputs:
            try:
                if p.is_file() and p.stat().st_mtime_ns >= started_ns:
                    p.unlink()
            except OSError:
                pass

    def _adopt(self, key: str) -> bool:
        """Record as done an instance whose outputs all exist, are newer than its inputs, and that the
        session has no record of (products made before the session existed)."""
        if self.session.record(key) is not None:
            return False
        step = self.build(key)
        outputs = [Path(p) for p in step.outputs()]
        if not outputs or not all(p.is_file() for p in outputs):
            return False
        newest_input = max((Path(p).stat().st_mtime_ns for p in step.inputs() if Path(p).is_file()), default=0)
        if min(p.stat().st_mtime_ns for p in outputs) < newest_input:
            return False
        plain = _plain_params(self.instance(key).params)
        self.session.update(key, status="done", adopted=True, params=plain, run_params=plain,
                            inputs=self.session.records(step.inputs()), outputs=self.session.records(outputs))
        return True

    def run_all(self, reporter: Reporter | None = None, until: str | None = None,
                on_step: Callable[[int, int, StepInstance, str], None] | None = None) -> dict[str, str]:
        """Run every instance that is not done, in order, up to and including stage ``until``.

        ``on_step(index, total, instance, action)`` is called before each instance with action
        "run", "skip" (already done) or "adopt" (existing products recorded).  Returns the final
        statuses.
        """
        rep = reporter if reporter is not None else Reporter()
        order = [s.id for s in STAGES]
        last = order.index(until) if until is not None else len(order) - 1
        todo = [i for i in self.instances if order.index(i.stage) <= last]
        for n, inst in enumerate(todo, 1):
            rep.check_cancelled()
            status = self.status(inst.key)
            if status == "done":
                action = "skip"
            elif status in ("ready", "pending") and self._adopt(inst.key):
                action = "adopt"
            else:
                action = "run"
            if on_step is not None:
                on_step(n, len(todo), inst, action)
            if action == "run":
                self.run(inst.key, rep)
        return self.statuses()
