"""Truth bookkeeping of a simulated observation: injected parameters under the project's names.

Two namings are written to ``truth.json`` per module:

* ``fit_parameters`` — ``<source>.<XSPEC component>.<parameter>`` (``intbgd.lorentz_5.norm``);
* ``parameters`` — the project's parameter names (ARCHITECTURE §10), the ``Parameter.full_name``
  of a model whose intbgd lines carry their labels: ``apbgd.cutoffpl.norm``,
  ``intbgd.line_19.65keV.norm``, ``intn.bknpower.norm``, ``source.powerlaw.norm``.

Background norms are those of a region covering one whole detector (exposure-weighted,
bad-pixel screened active area), so a fit of that detector's spectrum reports them.
"""

from __future__ import annotations

#: XSPEC model of each background source (the intbgd lines are named per component).
BACKGROUND_MODELS = (("apbgd", "cutoffpl"), ("fcxb", "cutoffpl"), ("intn", "bknpower"))


def fit_parameters(components: dict, det: int, labels: dict[str, str] | None = None
                   ) -> dict[str, float]:
    """Injected parameters of a region covering detector ``det``, named as the fit reports them.

    Names are ``<source>.<XSPEC component>.<parameter>`` (``apbgd.cutoffpl.norm``,
    ``intbgd.lorentz_5.norm``, ``intn.bknpower.norm``), the ``Parameter.full_name`` of
    :mod:`nuskybgd.spectral.parameters`; with ``labels`` (component → label, e.g.
    ``{"lorentz_5": "line_19.65keV"}``) labelled components are named by their label.
    Norms are for the whole (exposure-weighted, bad-pixel screened) active area of the
    detector: cutoffpl and bknpower in ph keV⁻¹ cm⁻² s⁻¹ at 1 keV, lorentz/apec in their XSPEC
    units; energies in keV.

    Parameters
    ----------
    components : dict
        ``truth["modules"][m]["components"]`` as built by the simulator.
    det : int
        Detector 0–3.
    labels : dict, optional
        Component labels to name intbgd components by.
    """
    labels = labels or {}
    out: dict[str, float] = {}
    for src, model in BACKGROUND_MODELS:
        c = components[src]
        for k, v in c["parameters"].items():
            out[f"{src}.{model}.{k}"] = float(v)
        out[f"{src}.{model}.norm"] = float(c["per_detector"][str(det)]["norm"])
    ib = components["intbgd"]
    for nm, p in ib["components"].items():
        name = labels.get(nm, nm)
        for k, v in p.items():
            if k != "norm_whole_detector":
                out[f"intbgd.{name}.{k}"] = float(v)
        out[f"intbgd.{name}.norm"] = float(ib["per_detector"][str(det)]["norms"][nm])
    return out


def line_labels(components: dict) -> dict[str, str]:
    """intbgd component → label (``lorentz_5`` → ``line_19.65keV``) for every line."""
    return {nm: f"line_{p['LineE']:.2f}keV"
            for nm, p in components["intbgd"]["components"].items() if "LineE" in p}


def source_parameters(src_truth: dict) -> dict[str, float]:
    """The source's power law under project names; norm 0 when no source was injected."""
    pars = src_truth.get("parameters", {})
    if not pars:
        return {}
    on = 1.0 if src_truth.get("injected") else 0.0
    return {"source.powerlaw.PhoIndex": float(pars["PhoIndex"]),
            "source.powerlaw.norm": on * float(pars["norm"])}


def named_parameters(mtruth: dict) -> dict:
    """``truth.json``'s ``parameters`` entry of one module (see the module docstring).

    Returns
    -------
    dict
        ``{"detectors": {"0": {name: value}, …}, "source": {name: value}}``.
    """
    labels = line_labels(mtruth["components"])
    return {"detectors": {str(d): fit_parameters(mtruth["components"], d, labels)
                          for d in range(4)},
            "source": source_parameters(mtruth["source"])}
