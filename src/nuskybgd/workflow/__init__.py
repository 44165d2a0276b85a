"""nuskybgd.workflow: the background model from bgdinfo.json to projected source backgrounds.

Modules (each a library function that a pipeline step wraps: paths in, paths out, a Reporter):

* :mod:`~nuskybgd.workflow.config` — ``bgdinfo.json`` load/validate/write/generate.
* :mod:`~nuskybgd.workflow.geometry_weights` — region weights from the projbgd images.
* :mod:`~nuskybgd.workflow.presets` — presets and ties (the original's ``setPars`` strings).
* :mod:`~nuskybgd.workflow.model` — the four-source model on the spectral engine, calibration files.
* :mod:`~nuskybgd.workflow.recipe` — the walkthrough's actions, individually switchable.
* :mod:`~nuskybgd.workflow.fit` — ``fit``: NAME.xcm, NAME_fit.xcm, NAME_fit.json.
* :mod:`~nuskybgd.workflow.report` — the fit report (plain data, text, JSON).
* :mod:`~nuskybgd.workflow.project` — ``spec`` (projection, background PHA) and ``simplify``.
* :mod:`~nuskybgd.workflow.combine` — several simplified files into one fit.
* :mod:`~nuskybgd.workflow.image` — model background images.

See ``docs/workflow.md``.  Heavy libraries are imported inside functions.
"""
