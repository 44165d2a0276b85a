"""What an ``.xcm`` file sets up (:class:`XcmSession`) and how it becomes a fit problem.

:meth:`XcmSession.build` reads the spectra and responses the file names and applies its
``ignore``/``notice`` commands (by energy for reals and ``**``, by channel for integers,
``ignore bad``) in file order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from nuskybgd.errors import InputError
from nuskybgd.spectral.data import Spectrum
from nuskybgd.spectral.fit import FitProblem
from nuskybgd.spectral.model import Source
from nuskybgd.spectral.response import Response

_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
RANGE = re.compile(rf"^(\*\*|{_NUM})(?:-(\*\*|{_NUM}))?$")
"""A notice/ignore range: ``a-b`` with numbers or ``**`` (one number: a single value)."""


@dataclass
class XcmSession:
    """What an ``.xcm`` file sets up.

    Attributes
    ----------
    statistic : str
        ``cstat`` or ``chi`` (XSPEC's default chi when not set).
    maxit, crit_delta : int, float
        From ``method leven``.
    data : dict
        Spectrum number → (data group, file name).
    responses, arfs : dict
        (source number, spectrum number) → file name (``none`` removes).
    backgrounds : dict
        Spectrum number → file name or None.
    filters : list
        ``(command, spectra or None, ranges)`` notice/ignore commands in file order.
    sources : list of Source
        The models with their parameters.
    path : Path or None
        The file read (used to resolve relative file names).
    """

    statistic: str = "chi"
    maxit: int = 10
    crit_delta: float = 0.01
    data: dict[int, tuple[int, str]] = field(default_factory=dict)
    responses: dict[tuple[int, int], str] = field(default_factory=dict)
    arfs: dict[tuple[int, int], str] = field(default_factory=dict)
    backgrounds: dict[int, str | None] = field(default_factory=dict)
    filters: list[tuple[str, list[int] | None, list[str]]] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    path: Path | None = None

    @property
    def n_groups(self) -> int:
        return max((g for g, _ in self.data.values()), default=1)

    def _file(self, name: str) -> Path:
        p = Path(name)
        if not p.is_absolute() and not p.exists() and self.path is not None:
            alt = self.path.parent / p
            if alt.exists():
                return alt
        return p

    def build(self, statistic: str | None = None) -> FitProblem:
        """Read the spectra and responses and return a :class:`~nuskybgd.spectral.fit.FitProblem`.

        A spectrum's source 1 gets its header RESPFILE/ANCRFILE, as XSPEC's ``data`` does,
        unless the file sets ``response 1:s``.  BACKFILE is never loaded (``docs/spectral.md``).
        """
        from nuskybgd.io.ogip import read_pha

        if not self.data:
            raise InputError(f"{self.path or 'the .xcm file'} loads no spectra (no 'data' command).",
                             self.path)
        cache: dict[tuple[str, str | None], Response] = {}

        def response(rmf: str, arf: str | None) -> Response:
            key = (rmf, arf)
            if key not in cache:
                cache[key] = Response(self._file(rmf), None if arf is None else self._file(arf),
                                      rmf_path=rmf, arf_path=arf)
            return cache[key]

        spectra = []
        numbers = sorted(self.data)
        if numbers != list(range(1, len(numbers) + 1)):
            raise InputError(f"{self.path or 'the .xcm file'} loads spectra {numbers}; XSPEC numbers them "
                             "1, 2, 3 … without gaps.", self.path)
        for s_no in numbers:
            group, name = self.data[s_no]
            pha = read_pha(self._file(name))
            spec = Spectrum(pha, {}, group=group, name=name)
            wanted: dict[int, tuple[str, str | None]] = {}
            if pha.respfile and (1, s_no) not in self.responses:
                wanted[1] = (str(Path(name).parent / pha.respfile) if not Path(pha.respfile).is_absolute()
                             else pha.respfile, None)
                if pha.ancrfile and (1, s_no) not in self.arfs:
                    wanted[1] = (wanted[1][0], str(Path(name).parent / pha.ancrfile))
            for (k, s), rmf in self.responses.items():
                if s == s_no and rmf.lower() != "none":
                    arf = self.arfs.get((k, s))
                    wanted[k] = (rmf, None if arf is None or arf.lower() == "none" else arf)
            defined = {src.number for src in self.sources}
            for k, (rmf, arf) in wanted.items():
                if k == 1 and 1 not in defined:
                    continue                 # XSPEC loads it but nothing is folded through it
                spec.set_response(k, response(rmf, arf))
            spectra.append(spec)
        for cmd, sel, ranges in self.filters:
            targets = range(1, len(spectra) + 1) if sel is None else sel
            for s_no in targets:
                if not 1 <= s_no <= len(spectra):
                    raise InputError(f"{self.path or 'the .xcm file'}: {cmd} names spectrum {s_no}, "
                                     f"but only {len(spectra)} are loaded.", self.path)
                _apply_filter(spectra[s_no - 1], cmd, ranges)
        return FitProblem(spectra, self.sources, statistic=statistic or self.statistic,
                          maxit=self.maxit, crit_delta=self.crit_delta)


def _apply_filter(spec: Spectrum, cmd: str, ranges: list[str]) -> None:
    for r in ranges:
        if r.lower() == "bad":
            if cmd == "ignore":
                spec.noticed &= spec.good
            continue
        m = RANGE.match(r)
        if not m:
            raise InputError(f"cannot read the {cmd} range {r!r}; write e.g. **-3.0 150.0-** or 1-35.")
        a, b = m.group(1), m.group(2) if m.group(2) is not None else m.group(1)
        ends = [x for x in (a, b) if x != "**"]
        is_energy = not ends or any(("." in x or "e" in x.lower()) for x in ends)
        if is_energy:
            lo = None if a == "**" else float(a)
            hi = None if b == "**" else float(b)
            (spec.ignore if cmd == "ignore" else spec.notice)(lo, hi)
        else:
            lo_c = 1 if a == "**" else int(a)
            hi_c = spec.n_groups if b == "**" else int(b)
            (spec.ignore_channels if cmd == "ignore" else spec.notice_channels)(lo_c, hi_c)
