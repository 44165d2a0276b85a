"""The walkthrough's recommendations as named, individually switchable actions.

Applied to the starting model of ``fit`` (after ``NAME.xcm`` is written), in this order:

=================  ========  ====================================================================
action             default   XSPEC equivalent (module reference in data group r+1)
=================  ========  ====================================================================
``statistic``      cstat     ``statistic cstat``
``solar_off``      on        ``newpar intbgd:4 0 -0.1`` and the same for 7, 10, 13 (apec and the
                             3.5, 4.5, 10.2 keV lines zeroed and frozen; layout and indices kept,
                             and a zero component is never evaluated, so apec needs no atomic data)
``freeze_fcxb``    on        ``freeze fcxb:*``
``intn_rescale``   off       ``newpar intn:4 <value>`` (the walkthrough uses 1e-4).  The fit is
                             linear in the norms, so the optimum does not depend on the start;
                             the preset is kept by default (background-model.md §10.1)
``thaw_lines``     none      untie and thaw ``lorentz_8``/``lorentz_9`` (24 keV) and/or
                             ``lorentz_26`` (88 keV): ``newpar intbgd:25 <value>`` …
``staged``         on        fit the norms first, then again with the thawed lines
=================  ========  ====================================================================
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from nuskybgd.errors import InputError

__all__ = ["LINE_CHOICES", "Recipe", "SOLAR_COMPONENTS", "applied_actions"]

SOLAR_COMPONENTS = ("apec", "lorentz", "lorentz_3", "lorentz_4")
LINE_CHOICES = {"24keV": ("lorentz_8", "lorentz_9"), "88keV": ("lorentz_26",)}


def _norm_index(source, component: str, group: int) -> int:
    comp = source.component(component)
    local = comp.first_param + comp.n_params          # the norm is the component's last parameter
    return (group - 1) * source.npar + local


@dataclass
class Recipe:
    """Which walkthrough actions to apply (see the module table).

    Attributes
    ----------
    statistic : str
        ``cstat`` (default) or ``chi``.
    solar_off : bool
        Zero and freeze the solar components.
    freeze_fcxb : bool
        Freeze every fCXB parameter.
    intn_rescale : float or None
        Start value of the internal-continuum norm of each module reference; None keeps the
        preset.
    thaw_lines : tuple of str
        intbgd component names to untie from the fixed ratios and thaw (``lorentz_8``,
        ``lorentz_9``, ``lorentz_26``; ``24keV``/``88keV`` are accepted as shorthands).
    staged : bool
        Fit the norms first, then again with the thawed lines.
    """

    statistic: str = "cstat"
    solar_off: bool = True
    freeze_fcxb: bool = True
    intn_rescale: float | None = None
    thaw_lines: tuple[str, ...] = field(default_factory=tuple)
    staged: bool = True

    def __post_init__(self) -> None:
        if self.statistic not in ("cstat", "chi"):
            raise InputError(f"statistic '{self.statistic}' is not cstat or chi; choose one of them.")
        lines: list[str] = []
        for name in self.thaw_lines:
            lines += LINE_CHOICES.get(name, (name,))
        for name in lines:
            if name not in ("lorentz_8", "lorentz_9", "lorentz_26"):
                raise InputError(f"thaw line '{name}' is not one the walkthrough thaws; use lorentz_8, "
                                 "lorentz_9, lorentz_26 (or 24keV, 88keV).")
        self.thaw_lines = tuple(dict.fromkeys(lines))
        if self.intn_rescale is not None and not self.intn_rescale > 0:
            raise InputError(f"intn rescale value {self.intn_rescale} must be a positive norm.")

    def to_dict(self) -> dict:
        """Plain-data form (for the JSON state)."""
        d = asdict(self)
        d["thaw_lines"] = list(self.thaw_lines)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Recipe:
        """Inverse of :meth:`to_dict`."""
        return cls(**{**d, "thaw_lines": tuple(d.get("thaw_lines", ()))})

    def apply(self, problem, references: dict[str, int]) -> list[dict]:
        """Apply the switched-on actions (except the thaw, see :meth:`thaw`) to ``problem``.

        Parameters
        ----------
        problem : FitProblem
            The starting model (:func:`nuskybgd.workflow.model.build_problem`).
        references : dict
            Module → 0-based index of its reference spectrum.

        Returns
        -------
        list of dict
            One record per action: ``name``, ``enabled``, ``commands`` (XSPEC equivalents).
        """
        records = [{"name": "statistic", "enabled": True, "commands": [f"statistic {self.statistic}"]}]
        problem.statistic_name = self.statistic
        intbgd = problem.source("intbgd")
        cmds: list[str] = []
        if self.solar_off:
            for r in references.values():
                for comp in SOLAR_COMPONENTS:
                    idx = _norm_index(intbgd, comp, r + 1)
                    problem.set(f"intbgd:{idx}", 0.0, frozen=True)
                    cmds.append(f"newpar intbgd:{idx} 0 -0.1")
        records.append({"name": "solar_off", "enabled": self.solar_off, "commands": cmds})
        if self.freeze_fcxb:
            problem.freeze("fcxb:*")
        records.append({"name": "freeze_fcxb", "enabled": self.freeze_fcxb,
                        "commands": ["freeze fcxb:*"] if self.freeze_fcxb else []})
        cmds = []
        if self.intn_rescale is not None:
            for r in references.values():
                idx = 4 * r + 4
                problem.set(f"intn:{idx}", float(self.intn_rescale))
                cmds.append(f"newpar intn:{idx} {self.intn_rescale:g}")
        records.append({"name": "intn_rescale", "enabled": self.intn_rescale is not None, "commands": cmds})
        records.append({"name": "thaw_lines", "enabled": bool(self.thaw_lines),
                        "commands": self.thaw_commands(problem, references)})
        records.append({"name": "staged", "enabled": self.staged, "commands": []})
        return records

    def thaw_commands(self, problem, references: dict[str, int]) -> list[str]:
        """The ``newpar``/``thaw`` commands :meth:`thaw` issues (nothing is changed)."""
        intbgd = problem.source("intbgd")
        out = []
        for r in references.values():
            for comp in self.thaw_lines:
                idx = _norm_index(intbgd, comp, r + 1)
                out += [f"newpar intbgd:{idx} {problem.par(f'intbgd:{idx}').value:.6e}", f"thaw intbgd:{idx}"]
        return out

    def thaw(self, problem, references: dict[str, int]) -> list[str]:
        """Untie the chosen lines of each module reference from the fixed ratios and thaw them.

        The value is kept (the tied value becomes a free start); other spectra of the module
        keep their geometric ratio links to the reference's line.  Returns the parameter ids.
        """
        problem.resolve()
        intbgd = problem.source("intbgd")
        ids = []
        for r in references.values():
            for comp in self.thaw_lines:
                pid = f"intbgd:{_norm_index(intbgd, comp, r + 1)}"
                p = problem.par(pid)
                problem.set(pid, p.value, frozen=False)
                ids.append(pid)
        return ids


def applied_actions(records: list[dict]) -> str:
    """One line per action: ``name: on/off (commands)``."""
    lines = []
    for rec in records:
        state = "on" if rec["enabled"] else "off"
        extra = f"  ({'; '.join(rec['commands'])})" if rec["enabled"] and rec["commands"] else ""
        lines.append(f"{rec['name']}: {state}{extra}")
    return "\n".join(lines)
