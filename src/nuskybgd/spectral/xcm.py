"""XSPEC command files (``.xcm``): export a fit problem, import what XSPEC's ``save all`` writes.

Export writes, in XSPEC syntax: ``statistic``, ``method``, settings, one ``data s:g file`` per
spectrum, ``backgrnd s none`` (nuskybgd fits without background files), ``response k:s`` and
``arf k:s`` for every source of every spectrum, ``ignore s:<channel ranges>`` (XSPEC channel
numbers = 1-based groups), then per source ``model k:name expression`` followed by one line per
parameter and data group: ``value delta hard_min soft_min soft_max hard_max`` (negative delta =
frozen) or ``= expression`` for a link (references written as ``name:pN``).  Component labels go
into ``# nuskybgd-label`` comment lines, which XSPEC skips.

Import reads that subset plus what ``save all`` and users write: abbreviations (``mo``,
``ign``, ``resp``…), ``model`` blocks with multi-group parameter lines, links (``= p5``,
``= 1.2*intbgd:16``, ``= intbgd:p16*1.2``), ``newpar``, ``freeze``/``thaw``, ``ignore``/``notice``
by energy (reals, ``**``) or channel (integers), with or without spectrum ranges, and
``ignore bad``.  Settings nuskybgd does not model (``abund``, ``xsect``, ``cosmo``, ``xset``,
``systematic``, ``query``, ``setplot``, ``cpd``, ``plot``, ``bayes``, ``fit``, ``weight standard``)
are skipped.  Anything else stops with the line and its number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from nuskybgd.errors import InputError, ModelError
from nuskybgd.spectral.model import Source, find_parameter, select_parameters
from nuskybgd.spectral.parameters import LinkExpr, Parameter, parse_link

# ----------------------------------------------------------------------------- export


def _fmt(v: float) -> str:
    return repr(float(v)).replace("inf", "1e+300")


def _render(node: tuple, ref_text) -> str:
    kind = node[0]
    if kind == "num":
        return _fmt(node[1])
    if kind == "ref":
        return ref_text(node[1])
    if kind == "neg":
        return f"-({_render(node[1], ref_text)})"
    return f"({_render(node[2], ref_text)}){node[1]}({_render(node[3], ref_text)})"


def link_to_xspec(link: LinkExpr, sources: list[Source], context: Source) -> str:
    """The link expression with every reference written XSPEC's way (``name:pN`` / ``pN``)."""

    def ref_text(ref: str) -> str:
        p = find_parameter(sources, ref, context)
        return f"{p.source}:p{p.global_index}" if p.source else f"p{p.global_index}"

    prop = link.proportional()
    if prop is not None and prop[1] is not None:
        target = ref_text(prop[1])
        return target if prop[0] == 1.0 else f"{_fmt(prop[0])}*{target}"
    return _render(link.tree, ref_text)


def _param_line(p: Parameter, sources: list[Source], src: Source) -> str:
    if p.link is not None:
        return "= " + link_to_xspec(p.link, sources, src)
    delta = -abs(p.delta) if p.frozen else abs(p.delta)
    if p.frozen and delta == 0:
        delta = -1e-3
    vals = (p.value, delta, p.hard_min, p.soft_min, p.soft_max, p.hard_max)
    return " ".join(f"{_fmt(v):>14s}" for v in vals)


def model_lines(sources: list[Source]) -> list[str]:
    """``model`` blocks (with parameter lines and label comments) for ``sources``."""
    lines: list[str] = []
    for src in sorted(sources, key=lambda s: s.number):
        head = f"{src.number}:{src.name} " if src.name else ""
        lines.append(f"model  {head}{src.expression}")
        for p in src.parameters:
            lines.append(_param_line(p, sources, src))
        for comp in src.components:
            if comp.label:
                lines.append(f"# nuskybgd-label {src.name or '-'} {comp.name} {comp.label}")
    return lines


def export_xcm(problem, path: str | Path | None = None, overwrite: bool = False) -> str:
    """Write ``problem`` (a :class:`~nuskybgd.spectral.fit.FitProblem`) as an XSPEC command file.

    Returns the text; writes it atomically to ``path`` when given (refusing to replace an
    existing file unless ``overwrite``).
    """
    lines = [
        "# written by nuskybgd (XSPEC command file; load with @file.xcm)",
        f"statistic {problem.statistic_name}",
        f"method leven {problem.maxit} {problem.crit_delta!r}",
        "abund angr",
        "xsect vern",
        "xset delta 0.01",
        "systematic 0",
    ]
    for s_no, spec in enumerate(problem.spectra, start=1):
        lines.append(f"data {spec.group}:{s_no} {spec.name}")
    for s_no, _spec in enumerate(problem.spectra, start=1):
        lines.append(f"backgrnd {s_no} none")
    for s_no, spec in enumerate(problem.spectra, start=1):
        for k in sorted(spec.responses):
            r = spec.responses[k]
            if r.rmf_path is None:
                raise ModelError(
                    f"response {k} of spectrum {spec.name} has no file name, so it cannot be written to an "
                    ".xcm file; build it from files (Response(path, arf_path))."
                )
            lines.append(f"response {k}:{s_no} {r.rmf_path}")
            if r.arf is not None:
                if r.arf_path is None:
                    raise ModelError(f"the ARF of response {k} of spectrum {spec.name} has no file name; "
                                     "build it from a file to export it.")
                lines.append(f"arf {k}:{s_no} {r.arf_path}")
    for s_no, spec in enumerate(problem.spectra, start=1):
        ranges = spec.ignored_ranges()
        if ranges:
            txt = ",".join(f"{a}-{b}" if a != b else f"{a}" for a, b in ranges)
            lines.append(f"ignore {s_no}:{txt}")
    lines.extend(model_lines(problem.sources))
    text = "\n".join(lines) + "\n"
    if path is not None:
        from nuskybgd.io.atomic import write_text_atomic

        write_text_atomic(path, text, overwrite=overwrite)
    return text


# ----------------------------------------------------------------------------- import

_SKIP = {"abund", "xsect", "cosmo", "xset", "systematic", "query", "setplot", "cpd", "plot",
         "bayes", "fit", "chatter", "log", "parallel", "renorm", "show", "tclout", "weight",
         "energies", "lmod", "load", "setp", "pl", "save", "error", "flux", "iplot", "quit", "exit"}
_COMMANDS = {  # full name → minimum abbreviation length
    "statistic": 4, "method": 4, "data": 2, "response": 4, "arf": 3, "backgrnd": 4,
    "ignore": 3, "notice": 2, "model": 2, "newpar": 4, "freeze": 3, "thaw": 2,
}
_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_RANGE = re.compile(rf"^(\*\*|{_NUM})(?:-(\*\*|{_NUM}))?$")


def _command(word: str) -> str | None:
    w = word.lower()
    for full, n in _COMMANDS.items():
        if len(w) >= n and full.startswith(w):
            return full
    if w in _SKIP or any(len(w) >= 3 and s.startswith(w) for s in _SKIP if len(s) > 3):
        return "skip"
    return None


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

    def build(self, statistic: str | None = None):
        """Read the spectra and responses and return a :class:`~nuskybgd.spectral.fit.FitProblem`.

        A spectrum's source 1 gets its header RESPFILE/ANCRFILE, as XSPEC's ``data`` does,
        unless the file sets ``response 1:s``.  BACKFILE is never loaded (``docs/spectral.md``).
        """
        from nuskybgd.io.ogip import read_pha
        from nuskybgd.spectral.data import Spectrum
        from nuskybgd.spectral.fit import FitProblem
        from nuskybgd.spectral.response import Response

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


def _apply_filter(spec, cmd: str, ranges: list[str]) -> None:
    for r in ranges:
        if r.lower() == "bad":
            if cmd == "ignore":
                spec.noticed &= spec.good
            continue
        m = _RANGE.match(r)
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


def _spectra_spec(text: str) -> list[int] | None:
    if text in ("*", ""):
        return None
    out: list[int] = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-", 1)
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def _parse_filter(args: list[str]) -> list[tuple[list[int] | None, list[str]]]:
    """Split ``1:**-3.0 150.0-** 2-4:1-35`` into (spectra, ranges) pairs."""
    out: list[tuple[list[int] | None, list[str]]] = []
    current: tuple[list[int] | None, list[str]] | None = None
    for tok in " ".join(args).replace(",", " ").split():
        if ":" in tok:
            sel, rest = tok.split(":", 1)
            current = (_spectra_spec(sel), [])
            out.append(current)
            tok = rest
            if not tok:
                continue
        if current is None:
            current = (None, [])
            out.append(current)
        current[1].append(tok)
    return out


def _set_param_line(p: Parameter, text: str, where: str) -> None:
    if text.startswith("="):
        p.link = parse_link(text)
        return
    p.link = None
    try:
        nums = [float(x) for x in text.replace(",", " ").split()]
    except ValueError:
        raise InputError(f"{where}: cannot read parameter values from {text!r}.") from None
    if not nums or len(nums) > 6:
        raise InputError(f"{where}: expected 1–6 numbers (value delta min bot top max), got {text!r}.")
    p.value = nums[0]
    if len(nums) >= 2:
        p.frozen = nums[1] < 0
        if nums[1] != 0:
            p.delta = abs(nums[1])
    if len(nums) == 6:
        p.hard_min, p.soft_min, p.soft_max, p.hard_max = nums[2:]


def parse_xcm(text: str, path: str | Path | None = None) -> XcmSession:
    """Parse ``.xcm`` text into an :class:`XcmSession` (no file is read).

    Raises
    ------
    InputError
        For a line that cannot be read, quoting it with its number.
    """
    where_file = str(path) if path is not None else "xcm"
    sess = XcmSession(path=Path(path) if path is not None else None)
    lines = text.splitlines()
    pending: list[tuple[Source, list[Parameter]]] = []     # model being filled
    labels: list[tuple[str, str, str]] = []
    newpars: list[tuple[int, str, str]] = []
    freezes: list[tuple[int, str, bool]] = []
    i = 0
    while i < len(lines):
        raw = lines[i]
        lineno = i + 1
        i += 1
        line = raw.strip()
        where = f"{where_file} line {lineno} ({raw.strip()!r})"
        if pending:
            src, params = pending[0]
            if line.startswith("#") and not line.startswith("# nuskybgd-label"):
                continue
            if not line.startswith("# nuskybgd-label"):
                if line == "/*":
                    pending.clear()
                    continue
                p = params.pop(0)
                if line:
                    try:
                        _set_param_line(p, line, where)
                    except ModelError as exc:
                        raise InputError(f"{where}: {exc}") from None
                if not params:
                    pending.clear()
                continue
        if not line:
            continue
        if line.startswith("#"):
            m = re.match(r"#\s*nuskybgd-label\s+(\S+)\s+(\S+)\s+(.+)$", line)
            if m:
                labels.append((m.group(1), m.group(2), m.group(3).strip()))
            continue
        words = line.split()
        cmd = _command(words[0])
        args = words[1:]
        try:
            if cmd is None:
                raise InputError(f"{where}: {words[0]!r} is not an XSPEC command nuskybgd can read.")
            if cmd == "skip":
                if words[0].lower().startswith("weigh") and args and args[0].lower() != "standard":
                    raise InputError(f"{where}: only 'weight standard' is supported.")
                continue
            if cmd == "statistic":
                stat = args[0].lower() if args else ""
                if stat.startswith("cstat"):
                    sess.statistic = "cstat"
                elif stat in ("chi", "chi2"):
                    sess.statistic = "chi"
                else:
                    raise InputError(f"{where}: statistic {stat!r} is not supported (use cstat or chi).")
            elif cmd == "method":
                if args and not args[0].lower().startswith("lev"):
                    raise InputError(f"{where}: only 'method leven' is supported.")
                if len(args) > 1:
                    sess.maxit = int(float(args[1]))
                if len(args) > 2:
                    sess.crit_delta = float(args[2])
            elif cmd == "data":
                _parse_data(sess, args, where)
            elif cmd in ("response", "arf"):
                _parse_response(sess, cmd, args, where)
            elif cmd == "backgrnd":
                if len(args) == 1:
                    sess.backgrounds[1] = None if args[0].lower() == "none" else args[0]
                else:
                    sess.backgrounds[int(args[0].split(":")[-1])] = (
                        None if args[1].lower() == "none" else args[1])
            elif cmd in ("ignore", "notice"):
                if not args:
                    raise InputError(f"{where}: {cmd} needs a range.")
                for sel, ranges in _parse_filter(args):
                    for r in ranges:
                        if r.lower() != "bad" and not _RANGE.match(r):
                            raise InputError(f"{where}: cannot read the range {r!r}.")
                    sess.filters.append((cmd, sel, ranges))
            elif cmd == "model":
                src = _parse_model(args, sess.n_groups, where)
                sess.sources = [s for s in sess.sources if s.number != src.number] + [src]
                pending.append((src, list(src.parameters)))
            elif cmd == "newpar":
                if not args:
                    raise InputError(f"{where}: newpar needs a parameter.")
                newpars.append((lineno, args[0], " ".join(args[1:])))
            elif cmd in ("freeze", "thaw"):
                for a in " ".join(args).replace(",", " ").split():
                    freezes.append((lineno, a, cmd == "freeze"))
        except (ValueError, IndexError):
            raise InputError(f"{where}: cannot read this line.") from None
        except ModelError as exc:
            raise InputError(f"{where}: {exc}") from None
    if pending:
        src, params = pending[0]
        raise InputError(f"{where_file}: the model {src.name or src.expression!r} is missing "
                         f"{len(params)} parameter lines at the end of the file.")
    for src_name, cname, label in labels:
        try:
            src = next(s for s in sess.sources if (s.name or "-") == src_name)
            src.component(cname).label = label
            src.set_groups(src.n_groups)
        except (StopIteration, ModelError):
            continue
    for lineno, key, rest in newpars:
        where = f"{where_file} line {lineno} ({('newpar ' + key + ' ' + rest).strip()!r})"
        try:
            targets = select_parameters(sess.sources, key)
            for p in targets:
                if rest.startswith("="):
                    p.link = parse_link(rest)
                elif rest:
                    _set_param_line(p, rest, where)
        except ModelError as exc:
            raise InputError(f"{where}: {exc}") from None
    for lineno, key, frz in freezes:
        try:
            for p in select_parameters(sess.sources, key):
                p.frozen = frz
        except ModelError as exc:
            raise InputError(f"{where_file} line {lineno}: {exc}") from None
    # check every link now, so that a bad reference is reported at import
    for src in sess.sources:
        for p in src.parameters:
            if p.link is not None:
                for ref in p.link.refs:
                    try:
                        find_parameter(sess.sources, ref, src)
                    except ModelError:
                        raise InputError(
                            f"{where_file}: the link of {p.xspec_id} '= {p.link.text}' refers to a "
                            f"missing parameter {ref!r}."
                        ) from None
    _check_link_cycles(sess.sources, where_file)
    return sess


def _check_link_cycles(sources: list[Source], where_file: str) -> None:
    """Refuse circular links (``= p2`` on p1 and ``= p1`` on p2) at import, naming the chain."""
    targets = {
        id(p): [find_parameter(sources, ref, src) for ref in p.link.refs]
        for src in sources for p in src.parameters if p.link is not None
    }
    state: dict[int, int] = {}

    def visit(p: Parameter, path: list[Parameter]) -> None:
        if state.get(id(p)) == 2 or id(p) not in targets:
            return
        if state.get(id(p)) == 1:
            chain = " → ".join(q.xspec_id for q in path[path.index(p):] + [p])
            raise InputError(f"{where_file}: circular parameter link {chain}; give one of them a value.")
        state[id(p)] = 1
        for q in targets[id(p)]:
            visit(q, path + [p])
        state[id(p)] = 2

    for src in sources:
        for p in src.parameters:
            visit(p, [])


def _parse_data(sess: XcmSession, args: list[str], where: str) -> None:
    """``data [[g:]s] file …``: without a group number a spectrum joins data group 1 (XSPEC)."""
    toks = list(args)
    next_no = max(sess.data, default=0) + 1
    while toks:
        t = toks.pop(0)
        m = re.fullmatch(r"(?:(\d+):)?(\d+)", t)
        if m and toks:
            g = int(m.group(1)) if m.group(1) else 1
            s = int(m.group(2))
            name = toks.pop(0)
            if name.lower() == "none":
                sess.data.pop(s, None)
            else:
                sess.data[s] = (g, name)
            next_no = s + 1
        elif m:
            raise InputError(f"{where}: a file name must follow {t}.")
        else:
            if t.lower() != "none":
                sess.data[next_no] = (1, t)
            next_no += 1


def _parse_response(sess: XcmSession, cmd: str, args: list[str], where: str) -> None:
    target = sess.responses if cmd == "response" else sess.arfs
    toks = list(args)
    while toks:
        t = toks.pop(0)
        m = re.fullmatch(r"(?:(\d+):)?(\d+)", t)
        if m and toks:
            k = int(m.group(1)) if m.group(1) else 1
            target[(k, int(m.group(2)))] = toks.pop(0)
        elif not m:
            target[(1, 1)] = t
        else:
            raise InputError(f"{where}: a file name must follow {t}.")


def _parse_model(args: list[str], n_groups: int, where: str) -> Source:
    if not args:
        raise InputError(f"{where}: model needs an expression.")
    m = re.fullmatch(r"(\d+):([A-Za-z_]\w*)", args[0])
    if m:
        number, name, expr = int(m.group(1)), m.group(2), " ".join(args[1:])
    else:
        number, name, expr = 1, "", " ".join(args)
    if not expr.strip():
        raise InputError(f"{where}: model needs an expression.")
    return Source(expr, name=name, number=number, n_groups=n_groups)


def read_xcm(path: str | Path) -> XcmSession:
    """Read an ``.xcm`` file (see :func:`parse_xcm`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read {p}: {exc.strerror or exc}; check the path.", p) from None
    return parse_xcm(text, p)
