"""Read XSPEC command files (``.xcm``) into an :class:`~nuskybgd.spectral.xcm_session.XcmSession`.

Reads what :func:`~nuskybgd.spectral.xcm_export.export_xcm` writes plus what XSPEC's
``save all`` and users write: abbreviations (``mo``, ``ign``, ``resp``…), ``model`` blocks with
multi-group parameter lines, links (``= p5``, ``= 1.2*intbgd:16``, ``= intbgd:p16*1.2``),
``newpar``, ``freeze``/``thaw``, ``ignore``/``notice`` by energy (reals, ``**``) or channel
(integers), with or without spectrum ranges, and ``ignore bad``.  Settings nuskybgd does not
model (``abund``, ``xsect``, ``cosmo``, ``xset``, ``systematic``, ``query``, ``setplot``, ``cpd``,
``plot``, ``bayes``, ``fit``, ``weight standard``) are skipped.  Anything else stops with the
line and its number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from nuskybgd.errors import InputError, ModelError
from nuskybgd.spectral.links import LinkSet
from nuskybgd.spectral.model import Source, select_parameters
from nuskybgd.spectral.parameters import Parameter, parse_link
from nuskybgd.spectral.xcm_session import RANGE, XcmSession

_SKIP = {"abund", "xsect", "cosmo", "xset", "systematic", "query", "setplot", "cpd", "plot",
         "bayes", "fit", "chatter", "log", "parallel", "renorm", "show", "tclout", "weight",
         "energies", "lmod", "load", "setp", "pl", "save", "error", "flux", "iplot", "quit", "exit"}
_COMMANDS = {  # full name → minimum abbreviation length
    "statistic": 4, "method": 4, "data": 2, "response": 4, "arf": 3, "backgrnd": 4,
    "ignore": 3, "notice": 2, "model": 2, "newpar": 4, "freeze": 3, "thaw": 2,
}


def _command(word: str) -> str | None:
    w = word.lower()
    for full, n in _COMMANDS.items():
        if len(w) >= n and full.startswith(w):
            return full
    if w in _SKIP or any(len(w) >= 3 and s.startswith(w) for s in _SKIP if len(s) > 3):
        return "skip"
    return None


@dataclass
class _Pending:
    """What the parser keeps between lines: the model block being filled and the commands
    applied once every model is known (labels, ``newpar``, ``freeze``/``thaw``)."""

    block: list[tuple[Source, list[Parameter]]] = field(default_factory=list)
    labels: list[tuple[str, str, str]] = field(default_factory=list)
    newpars: list[tuple[int, str, str]] = field(default_factory=list)
    freezes: list[tuple[int, str, bool]] = field(default_factory=list)


def _parameter_line(state: _Pending, line: str, where: str) -> bool:
    """Take ``line`` as the next parameter line of the model block being read; False when the
    line is not one (no block open, or a ``# nuskybgd-label`` comment)."""
    if not state.block:
        return False
    if line.startswith("# nuskybgd-label"):
        return False
    if line.startswith("#"):
        return True
    if line == "/*":                   # XSPEC: the remaining parameters keep their defaults
        state.block.clear()
        return True
    _src, params = state.block[0]
    p = params.pop(0)
    if line:
        try:
            _set_param_line(p, line, where)
        except ModelError as exc:
            raise InputError(f"{where}: {exc}") from None
    if not params:
        state.block.clear()
    return True


def _settings(sess: XcmSession, cmd: str, args: list[str], where: str) -> None:
    """``statistic``, ``method`` and ``backgrnd``."""
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
    elif len(args) == 1:
        sess.backgrounds[1] = None if args[0].lower() == "none" else args[0]
    else:
        sess.backgrounds[int(args[0].split(":")[-1])] = None if args[1].lower() == "none" else args[1]


def _filters(sess: XcmSession, cmd: str, args: list[str], where: str) -> None:
    if not args:
        raise InputError(f"{where}: {cmd} needs a range.")
    for sel, ranges in _parse_filter(args):
        for r in ranges:
            if r.lower() != "bad" and not RANGE.match(r):
                raise InputError(f"{where}: cannot read the range {r!r}.")
        sess.filters.append((cmd, sel, ranges))


def _apply_command(sess: XcmSession, state: _Pending, words: list[str], lineno: int, where: str) -> None:
    """Carry out one command line (``words``: the command and its arguments)."""
    cmd, args = _command(words[0]), words[1:]
    if cmd is None:
        raise InputError(f"{where}: {words[0]!r} is not an XSPEC command nuskybgd can read.")
    if cmd == "skip":
        if words[0].lower().startswith("weigh") and args and args[0].lower() != "standard":
            raise InputError(f"{where}: only 'weight standard' is supported.")
    elif cmd in ("statistic", "method", "backgrnd"):
        _settings(sess, cmd, args, where)
    elif cmd == "data":
        _parse_data(sess, args, where)
    elif cmd in ("response", "arf"):
        _parse_response(sess, cmd, args, where)
    elif cmd in ("ignore", "notice"):
        _filters(sess, cmd, args, where)
    elif cmd == "model":
        src = _parse_model(args, sess.n_groups, where)
        sess.sources = [s for s in sess.sources if s.number != src.number] + [src]
        state.block.append((src, list(src.parameters)))
    elif cmd == "newpar":
        if not args:
            raise InputError(f"{where}: newpar needs a parameter.")
        state.newpars.append((lineno, args[0], " ".join(args[1:])))
    else:
        for a in " ".join(args).replace(",", " ").split():
            state.freezes.append((lineno, a, cmd == "freeze"))


def _finish(sess: XcmSession, state: _Pending, where_file: str) -> None:
    """Apply labels, ``newpar`` and ``freeze``/``thaw``, then check every link."""
    if state.block:
        src, params = state.block[0]
        raise InputError(f"{where_file}: the model {src.name or src.expression!r} is missing "
                         f"{len(params)} parameter lines at the end of the file.")
    for src_name, cname, label in state.labels:
        try:
            src = next(s for s in sess.sources if (s.name or "-") == src_name)
            src.component(cname).label = label
            src.set_groups(src.n_groups)
        except (StopIteration, ModelError):
            continue
    for lineno, key, rest in state.newpars:
        where = f"{where_file} line {lineno} ({('newpar ' + key + ' ' + rest).strip()!r})"
        try:
            for p in select_parameters(sess.sources, key):
                if rest.startswith("="):
                    p.link = parse_link(rest)
                elif rest:
                    _set_param_line(p, rest, where)
        except ModelError as exc:
            raise InputError(f"{where}: {exc}") from None
    for lineno, key, frz in state.freezes:
        try:
            for p in select_parameters(sess.sources, key):
                p.frozen = frz
        except ModelError as exc:
            raise InputError(f"{where_file} line {lineno}: {exc}") from None
    try:                               # a bad reference or a cycle is reported at import
        LinkSet(sess.sources)
    except ModelError as exc:
        raise InputError(f"{where_file}: {exc}") from None


def parse_xcm(text: str, path: str | Path | None = None) -> XcmSession:
    """Parse ``.xcm`` text into an :class:`XcmSession` (no file is read).

    Raises
    ------
    InputError
        For a line that cannot be read, quoting it with its number.
    """
    where_file = str(path) if path is not None else "xcm"
    sess = XcmSession(path=Path(path) if path is not None else None)
    state = _Pending()
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        where = f"{where_file} line {lineno} ({line!r})"
        if _parameter_line(state, line, where) or not line:
            continue
        if line.startswith("#"):
            m = re.match(r"#\s*nuskybgd-label\s+(\S+)\s+(\S+)\s+(.+)$", line)
            if m:
                state.labels.append((m.group(1), m.group(2), m.group(3).strip()))
            continue
        try:
            _apply_command(sess, state, line.split(), lineno, where)
        except (ValueError, IndexError):
            raise InputError(f"{where}: cannot read this line.") from None
        except ModelError as exc:
            raise InputError(f"{where}: {exc}") from None
    _finish(sess, state, where_file)
    return sess


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
