"""``bgdinfo.json``: the background-fit configuration (nuskybgd-py schema plus documented extras).

Schema (``docs/reference/background-model.md`` §1):

``bgfiles``       background spectra (PHA); the order is XSPEC's spectrum and data-group order
``regfiles``      one ds9 region file per spectrum (same order, same length)
``refimgf``       FITS image whose WCS is the grid of every region mask (usually ``bgdapA.fits``)
``bgdapfiles``    ``{"A": path, "B": path}`` aperture images from projbgd
``bgddetfiles``   ``{"A": [4 paths], "B": [4 paths]}`` detector-footprint images, detector 0..3
``intbgd_fix_line_ratios``  optional bool; lines ≥ 21.9 keV follow the 19.65 keV line
``fcxb_config``   optional ``{"links": [[ref, tied], ...]}`` (1-based spectrum numbers)

Differences from nuskybgd-py, on purpose:

* Paths resolve against the JSON file's folder (the original uses the working directory).
* A one-module configuration needs only that module's keys in ``bgdapfiles``/``bgddetfiles``.
* ``intbgd_fix_line_ratios`` defaults to **true** (the walkthrough's recommendation); the
  original's default was false.  Files written here always state it.
* Any other key is kept and written back unchanged (``comment`` is the documented one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from nuskybgd.errors import InputError

__all__ = ["BgdInfo", "MODULES", "config_name", "generate_bgdinfo", "load_bgdinfo", "make_config", "parse_bgdinfo",
           "write_bgdinfo"]

MODULES = ("A", "B")
REQUIRED_KEYS = ("bgfiles", "regfiles", "refimgf", "bgdapfiles", "bgddetfiles")
KNOWN_KEYS = REQUIRED_KEYS + ("intbgd_fix_line_ratios", "fcxb_config")


@dataclass
class BgdInfo:
    """A loaded, validated ``bgdinfo.json``.

    Attributes
    ----------
    bgfiles, regfiles : list of Path
        Background spectra and their regions (absolute or relative to the working directory).
    refimgf : Path
        Reference image (WCS grid of the masks).
    bgdapfiles : dict
        Module → aperture image.
    bgddetfiles : dict
        Module → four detector images (detector 0..3).
    modules : list of str
        Module ('A'/'B') of each spectrum, from its INSTRUME keyword.
    fix_line_ratios : bool
        ``intbgd_fix_line_ratios``.
    fcxb_links : list of (int, int)
        ``fcxb_config.links`` pairs (1-based spectrum numbers: the second follows the first).
    path : Path or None
        The JSON file (paths inside it are relative to its folder).
    extras : dict
        Keys nuskybgd does not interpret, kept for round trips.
    """

    bgfiles: list[Path]
    regfiles: list[Path]
    refimgf: Path
    bgdapfiles: dict[str, Path]
    bgddetfiles: dict[str, list[Path]]
    modules: list[str] = field(default_factory=list)
    fix_line_ratios: bool = True
    fcxb_links: list[tuple[int, int]] = field(default_factory=list)
    path: Path | None = None
    extras: dict = field(default_factory=dict)

    @property
    def n_spectra(self) -> int:
        return len(self.bgfiles)

    @property
    def used_modules(self) -> list[str]:
        """Modules that have at least one background spectrum, in A, B order."""
        return [m for m in MODULES if m in self.modules]

    def reference(self, module: str) -> int:
        """0-based index of the module's reference spectrum (its first spectrum)."""
        if module not in self.modules:
            raise InputError(f"{self._where()} has no background spectrum of FPM{module}; add one to "
                             "bgfiles or use that module's own configuration.", self.path)
        return self.modules.index(module)

    def _where(self) -> str:
        return str(self.path) if self.path is not None else "the configuration"

    def to_json(self) -> dict:
        """The JSON object (paths relative to the file's folder when possible)."""
        base = self.path.parent if self.path is not None else None

        def rel(p: Path) -> str:
            if base is not None:
                try:
                    return str(Path(p).resolve().relative_to(base.resolve()))
                except ValueError:
                    return str(Path(p).resolve())
            return str(p)

        out: dict = {
            "bgfiles": [rel(p) for p in self.bgfiles],
            "regfiles": [rel(p) for p in self.regfiles],
            "refimgf": rel(self.refimgf),
            "bgdapfiles": {m: rel(p) for m, p in self.bgdapfiles.items()},
            "bgddetfiles": {m: [rel(p) for p in ps] for m, ps in self.bgddetfiles.items()},
            "intbgd_fix_line_ratios": bool(self.fix_line_ratios),
        }
        if self.fcxb_links:
            out["fcxb_config"] = {"links": [[int(a), int(b)] for a, b in self.fcxb_links]}
        out.update(self.extras)
        return out


def config_name(modules: tuple[str, ...] | list[str]) -> str:
    """Default file name: ``bgdinfoA.json`` / ``bgdinfoB.json``, ``bgdinfo.json`` for both."""
    mods = [m.upper() for m in modules]
    return f"bgdinfo{mods[0]}.json" if len(mods) == 1 else "bgdinfo.json"


# ----------------------------------------------------------------------------- loading


def _str_list(value, key: str, where: str, path: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: '{key}' must be a list of file names.", path)
    return value


def _module_key(m: str) -> str:
    return m.upper().removeprefix("FPM")


def _instrume(pha: Path, where: str, what: str = "background spectrum") -> str:
    from nuskybgd.io.ogip import find_hdu, open_fits
    from nuskybgd.modules import normalise_module

    with open_fits(pha, what) as hdul:
        hdu = find_hdu(hdul, ("SPECTRUM",), hduclas1="SPECTRUM")
        if hdu is None:
            raise InputError(f"{where}: {pha} has no SPECTRUM extension; give an OGIP PHA file.", pha)
        value = str(hdu.header.get("INSTRUME", "")).strip()
    try:
        return normalise_module(value, "INSTRUME")
    except InputError:
        raise InputError(f"{where}: {what} {pha} has INSTRUME '{value}', not FPMA or FPMB; give "
                         "NuSTAR spectra made from FPMA or FPMB events.", pha) from None


def _parse(raw: dict, path: Path) -> BgdInfo:
    where = str(path)
    missing = [k for k in REQUIRED_KEYS if k not in raw]
    if missing:
        raise InputError(f"{where} lacks the key{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(missing)}; add {'them' if len(missing) > 1 else 'it'} "
                         "(see 'nuskybgd config' or the annotated example).", path)
    base = path.parent

    def p(name: str) -> Path:
        q = Path(name).expanduser()
        return q if q.is_absolute() else base / q

    bg = _str_list(raw["bgfiles"], "bgfiles", where, path)
    rg = _str_list(raw["regfiles"], "regfiles", where, path)
    if not bg:
        raise InputError(f"{where}: 'bgfiles' is empty; list at least one background spectrum.", path)
    if len(bg) != len(rg):
        raise InputError(f"{where} lists {len(bg)} bgfiles but {len(rg)} regfiles; give one region "
                         "file per background spectrum, in the same order.", path)
    if not isinstance(raw["refimgf"], str):
        raise InputError(f"{where}: 'refimgf' must be a file name.", path)
    ap, det = raw["bgdapfiles"], raw["bgddetfiles"]
    if not isinstance(ap, dict) or not isinstance(det, dict):
        raise InputError(f"{where}: 'bgdapfiles' and 'bgddetfiles' must be objects keyed by module "
                         '("A", "B").', path)
    bgdap = {_module_key(m): p(v) for m, v in ap.items() if isinstance(v, str)}
    bgddet: dict[str, list[Path]] = {}
    for m, v in det.items():
        names = _str_list(v, f"bgddetfiles.{m}", where, path)
        if len(names) < 4:
            raise InputError(f"{where}: 'bgddetfiles.{m}' lists {len(names)} images; give the four "
                             "detector images det0..det3 in detector order.", path)
        bgddet[_module_key(m)] = [p(n) for n in names[:4]]
    fix = raw.get("intbgd_fix_line_ratios", True)
    if not isinstance(fix, bool):
        raise InputError(f"{where}: 'intbgd_fix_line_ratios' must be true or false.", path)
    links = _parse_links(raw.get("fcxb_config"), len(bg), where, path)
    info = BgdInfo([p(n) for n in bg], [p(n) for n in rg], p(raw["refimgf"]), bgdap, bgddet,
                   fix_line_ratios=fix, fcxb_links=links, path=path,
                   extras={k: v for k, v in raw.items() if k not in KNOWN_KEYS})
    return info


def _parse_links(cfg, n: int, where: str, path: Path) -> list[tuple[int, int]]:
    if cfg is None:
        return []
    links = cfg.get("links", []) if isinstance(cfg, dict) else None
    ok = isinstance(links, list) and all(
        isinstance(x, list) and len(x) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                   for v in x) for x in links)
    if not ok:
        raise InputError(f"{where}: 'fcxb_config.links' must be a list of [ref, tied] spectrum-number "
                         "pairs, e.g. [[1, 2]].", path)
    for a, b in links:
        if not (1 <= a <= n and 1 <= b <= n) or a == b:
            raise InputError(f"{where}: fcxb link [{a}, {b}] must name two different spectra "
                             f"between 1 and {n}.", path)
    return [(a, b) for a, b in links]


def _check_files(info: BgdInfo) -> None:
    where = info._where()
    named = [("background spectrum", f) for f in info.bgfiles]
    named += [("region file", f) for f in info.regfiles]
    named.append(("reference image (refimgf)", info.refimgf))
    for m in info.used_modules:
        if m not in info.bgdapfiles or m not in info.bgddetfiles:
            raise InputError(f"{where} has FPM{m} spectra but no '{m}' entry in "
                             f"{'bgdapfiles' if m not in info.bgdapfiles else 'bgddetfiles'}; add "
                             f"the projbgd outputs of module {m}.", info.path)
        named.append((f"aperture image of module {m}", info.bgdapfiles[m]))
        named += [(f"detector image of module {m}", f) for f in info.bgddetfiles[m]]
    for what, f in named:
        if not Path(f).is_file():
            raise InputError(f"{where} names the {what} {f}, which does not exist; fix the path "
                             "(paths are relative to the JSON file's folder).", info.path)


def load_bgdinfo(path: str | Path, check_files: bool = True) -> BgdInfo:
    """Read and validate ``bgdinfo.json``.

    Parameters
    ----------
    path : path
        The JSON file.  Relative paths inside it resolve against its folder.
    check_files : bool
        Check that every named file exists and read each spectrum's INSTRUME (default).

    Returns
    -------
    BgdInfo

    Raises
    ------
    InputError
        Missing file, invalid JSON, missing keys, unequal list lengths, missing named files,
        an INSTRUME other than FPMA/FPMB, a module without its projbgd images.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"configuration {path} does not exist; make it with 'nuskybgd config'.", path)
    try:
        text = path.read_text()
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not valid JSON ({exc}); fix it (a trailing comma is a common "
                         "cause).", path) from None
    return parse_bgdinfo(text, path, check_files)


def parse_bgdinfo(text: str, path: str | Path, check_files: bool = True) -> BgdInfo:
    """Validate the text of a ``bgdinfo.json`` as if it were the file ``path`` (which need not
    exist yet: relative paths inside resolve against its folder).  Same checks and errors as
    :func:`load_bgdinfo`; nothing is written."""
    path = Path(path)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not valid JSON ({exc}); fix it (a trailing comma is a common "
                         "cause).", path) from None
    if not isinstance(raw, dict):
        raise InputError(f"{path} must hold a JSON object with the bgdinfo keys.", path)
    info = _parse(raw, path)
    if check_files:
        for f in info.bgfiles:
            if not f.is_file():
                raise InputError(f"{path} names the background spectrum {f}, which does not exist; "
                                 "fix the path (paths are relative to the JSON file's folder).", path)
        info.modules = [_instrume(f, str(path)) for f in info.bgfiles]
        _check_files(info)
    return info


def write_bgdinfo(info: BgdInfo, path: str | Path, overwrite: bool = False) -> Path:
    """Write ``info`` as JSON at ``path`` (atomically; refuses an existing file unless ``overwrite``).

    Paths are written relative to ``path``'s folder when they lie below it.
    """
    from nuskybgd.io.atomic import write_text_atomic

    path = Path(path)
    info.path = path
    text = json.dumps(info.to_json(), indent=2) + "\n"
    return write_text_atomic(path, text, overwrite=overwrite)


# ----------------------------------------------------------------------------- generation


def _spectrum_for(bgd_dir: Path, stem: str) -> Path | None:
    hits = sorted(bgd_dir.glob(f"*_{stem}_sr.pha"))
    return hits[0] if hits else None


def generate_bgdinfo(bgd_dir: str | Path, modules: tuple[str, ...] | list[str] = ("A",),
                     fix_line_ratios: bool = True, fcxb_links: list[tuple[int, int]] | None = None,
                     tie_fcxb_by_sky: bool = True) -> BgdInfo:
    """Build the configuration from the earlier steps' outputs in ``bgd_dir`` (``event_cl/bgd``).

    Expects (ARCHITECTURE §3/§10 names) ``bgdap{m}.fits``, ``det{d}{m}im.fits`` (projbgd),
    ``bgd{d}{m}.reg`` (regions, detectors without a region are skipped) and the spectrum
    ``*_bgd{d}{m}_sr.pha`` of each region.  ``refimgf`` is the first module's aperture image.

    Parameters
    ----------
    bgd_dir : path
        Folder holding those files; the JSON is meant to be written there.
    modules : sequence of 'A'/'B'
        One module (the walkthrough's default) or both (the joint fit).
    tie_fcxb_by_sky : bool
        In a two-module configuration, link the fCXB norm of an FPMB spectrum to the FPMA
        spectrum whose region file has the same content (the same sky), unless ``fcxb_links``
        is given.

    Returns
    -------
    BgdInfo
        With ``path`` = ``bgd_dir / config_name(modules)`` (not written; see :func:`write_bgdinfo`).

    Raises
    ------
    InputError
        A missing projbgd image, no background region, or a region without its spectrum.
    """
    d = Path(bgd_dir)
    mods = [_module_key(m) for m in modules]
    if not mods or any(m not in MODULES for m in mods):
        raise InputError(f"modules {list(modules)} must be A, B or both.")
    bg: list[Path] = []
    rg: list[Path] = []
    bgdap: dict[str, Path] = {}
    bgddet: dict[str, list[Path]] = {}
    for m in mods:
        bgdap[m] = d / f"bgdap{m}.fits"
        bgddet[m] = [d / f"det{k}{m}im.fits" for k in range(4)]
        for f in [bgdap[m], *bgddet[m]]:
            if not f.is_file():
                raise InputError(f"{f} does not exist; run projbgd for module {m} (into {d}) first.", f)
        regions = [d / f"bgd{k}{m}.reg" for k in range(4) if (d / f"bgd{k}{m}.reg").is_file()]
        if not regions:
            raise InputError(f"{d} has no background region bgd<det>{m}.reg; make the regions "
                             f"of module {m} first.", d)
        for reg in regions:
            pha = _spectrum_for(d, reg.stem)
            if pha is None:
                raise InputError(f"region {reg} has no spectrum *_{reg.stem}_sr.pha in {d}; extract "
                                 "the background spectra first.", reg)
            bg.append(pha)
            rg.append(reg)
    links = list(fcxb_links or [])
    if fcxb_links is None and tie_fcxb_by_sky and len(mods) == 2:
        links = _same_sky_links(rg)
    return BgdInfo(bg, rg, bgdap[mods[0]], bgdap, bgddet, modules=[], fix_line_ratios=fix_line_ratios,
                   fcxb_links=links, path=d / config_name(mods))


def _same_sky_links(regions: list[Path]) -> list[tuple[int, int]]:
    """[ref, tied] 1-based pairs of spectra whose region files hold the same shapes."""
    first: dict[str, int] = {}
    links = []
    for s, reg in enumerate(regions, start=1):
        key = "\n".join(line.strip() for line in reg.read_text().splitlines()
                        if line.strip() and not line.lstrip().startswith("#"))
        if key in first:
            links.append((first[key], s))
        else:
            first[key] = s
    return links


def make_config(bgd_dir: str | Path, modules: tuple[str, ...] | list[str] = ("A",), out: str | Path | None = None,
                overwrite: bool = False, reporter=None, **options) -> Path:
    """Generate, write and re-validate the configuration (what ``nuskybgd config`` runs).

    ``options`` go to :func:`generate_bgdinfo`; ``out`` defaults to ``bgd_dir/config_name(modules)``.
    Returns the written path.
    """
    info = generate_bgdinfo(bgd_dir, modules, **options)
    path = write_bgdinfo(info, out if out is not None else info.path, overwrite=overwrite)
    loaded = load_bgdinfo(path)
    if reporter is not None:
        reporter.output(path, f"wrote {path} ({loaded.n_spectra} background spectra, FPM"
                              f"{'+'.join(loaded.used_modules)})")
    return path
