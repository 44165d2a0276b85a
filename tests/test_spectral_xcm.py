""".xcm export and import: XSPEC-style files, round trips, bad lines."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import shared_path
from nuskybgd.errors import InputError, ModelError
from nuskybgd.io.ogip import write_pha
from nuskybgd.io.ogip_types import Pha
from nuskybgd.spectral import (
    Response,
    Source,
    Spectrum,
    export_xcm,
    model_flux,
    parse_xcm,
    read_xcm,
)
from nuskybgd.spectral.fit import FitProblem

XSPEC_STYLE = """statistic cstat
method leven 30000 0.0001
abund angr
xsect vern
cosmo 70 0 0.73
xset delta 0.01
systematic 0
data 1:1 {d}/bgd1.pha 2:2 {d}/bgd2.pha
response 2:1 {diag}
arf 2:1 {be}
response 3:1 {diag}
response 2:2 {diag}
arf 2:2 {be}
response 3:2 {diag}
ignore 1:**-3.0 150.0-** 2:**-3.0 150.0-**
model  2:apbgd cutoffpl
           1.29      -0.01         -3         -2          9         10
          41.13      -0.01       0.01          1        500        500
      0.0234046       0.01          0          0      1e+20      1e+24
= apbgd:p1
= apbgd:p2
= 1.118002*apbgd:p3
model  3:intbgd lorentz + lorentz
        3.53895      -0.05          0          0      1e+06      1e+06
       0.425422      -0.05          0          0         10         20
     0.00210865       0.01          0          0      1e+20      1e+24
        19.6464      -0.05          0          0      1e+06      1e+06
       0.229493      -0.05          0          0         10         20
    0.000135376       0.01          0          0      1e+20      1e+24
= intbgd:p1
= p2
= 0.7164754*intbgd:3
= intbgd:4
= p5
= intbgd:p6*1.25
newpar intbgd:3 0. -0.1
bayes off
"""


@pytest.fixture
def files(tmp_path):
    diag = shared_path("nuskybgd-auxil", "diag.rmf")
    be = shared_path("nuskybgd-auxil", "be.arf")
    for i, expo in ((1, 2e4), (2, 3e4)):
        pha = Pha(channels=np.arange(4096), counts=np.full(4096, float(i)), exposure=expo,
                  header={"TELESCOP": "NuSTAR", "INSTRUME": "FPMA"})
        write_pha(pha, tmp_path / f"bgd{i}.pha")
    text = XSPEC_STYLE.format(d=tmp_path, diag=diag, be=be)
    return tmp_path, text, diag, be


def test_xspec_style_file_imports(files):
    tmp, text, diag, be = files
    sess = parse_xcm(text)
    assert (sess.statistic, sess.maxit, sess.crit_delta) == ("cstat", 30000, 1e-4)
    assert sess.data == {1: (1, f"{tmp}/bgd1.pha"), 2: (2, f"{tmp}/bgd2.pha")}
    assert sess.responses[(3, 2)] == str(diag) and sess.arfs[(2, 2)] == str(be)
    ap = next(s for s in sess.sources if s.name == "apbgd")
    ib = next(s for s in sess.sources if s.name == "intbgd")
    assert (ap.number, ib.number, ib.npar) == (2, 3, 6)
    assert ap.par(1).value == 1.29 and ap.par(1).frozen and not ap.par(3).frozen
    assert ap.par(2).soft_min == 1.0 and ap.par(3).hard_max == 1e24
    assert ap.par(6).link.proportional() == (1.118002, "apbgd:p3")
    assert ib.par(12).link.proportional() == (1.25, "intbgd:p6")
    assert ib.par(3).value == 0.0 and ib.par(3).frozen and ib.par(3).link is None   # newpar

    prob = sess.build()
    assert [s.n_noticed for s in prob.spectra] == [3675, 3675]
    assert prob.statistic_name == "cstat"
    prob.resolve()
    assert prob.par("apbgd:6").value == pytest.approx(1.118002 * 0.0234046)
    assert prob.par("intbgd:9").value == 0.0                          # 0.716 × a zeroed norm
    assert prob.par("intbgd:12").value == pytest.approx(1.25 * 0.000135376)
    # the model of spectrum 2 = apbgd through diag×be + intbgd through diag, times 3e4 s
    from nuskybgd.io.ogip import read_arf

    e = Response(diag).energy_edges
    area = read_arf(be).specresp
    expect = 3e4 * (area * model_flux("cutoffpl", e, PhoIndex=1.29, HighECut=41.13,
                                      norm=1.118002 * 0.0234046)
                    + model_flux("lorentz", e, LineE=19.6464, Width=0.229493, norm=1.25 * 0.000135376))
    np.testing.assert_allclose(prob.model_counts(2), expect, rtol=1e-10)


def test_export_import_round_trip(files):
    tmp, text, diag, be = files
    prob = parse_xcm(text).build()
    ib = prob.source("intbgd")
    ib.component("lorentz_2").label = "line_19.65keV"
    ib.set_groups(ib.n_groups)
    prob.link("intbgd.line_19.65keV.norm@2", "(intbgd:p6 + 1e-5) * 2")     # a non-proportional link
    prob.spectra[1].ignore(10.0, 20.0)
    out = tmp / "state.xcm"
    written = export_xcm(prob, out)
    assert out.read_text() == written
    assert "backgrnd 2 none" in written and "model  3:intbgd lorentz + lorentz" in written
    with pytest.raises(Exception, match="already exists"):
        export_xcm(prob, out)
    again = read_xcm(out).build()
    assert again.statistic_name == prob.statistic_name and again.crit_delta == prob.crit_delta
    for a, b in zip(prob.parameters, again.parameters, strict=True):
        assert (a.xspec_id, a.full_name, a.value, a.frozen, a.delta) == \
               (b.xspec_id, b.full_name, b.value, b.frozen, b.delta)
        assert (a.hard_min, a.soft_min, a.soft_max, a.hard_max) == (b.hard_min, b.soft_min, b.soft_max, b.hard_max)
        assert (a.link is None) == (b.link is None)
    prob.set("intbgd:6", 3e-4)
    again.set("intbgd:6", 3e-4)
    prob.resolve()
    again.resolve()
    assert again.par("intbgd:12").value == pytest.approx(prob.par("intbgd:12").value) == pytest.approx(6.2e-4)
    # every link survives: new values for all unlinked parameters propagate identically
    rng = np.random.default_rng(0)
    for a, b in zip(prob.parameters, again.parameters, strict=True):
        if a.link is None:
            v = a.value * rng.uniform(0.5, 1.5) if a.value else rng.uniform(0.1, 0.9)
            a.value = b.value = float(np.clip(v, a.hard_min, a.hard_max))
    prob.resolve()
    again.resolve()
    for a, b in zip(prob.parameters, again.parameters, strict=True):
        assert b.value == pytest.approx(a.value, rel=1e-14, abs=0), a.xspec_id
    for s1, s2 in zip(prob.spectra, again.spectra, strict=True):
        np.testing.assert_array_equal(s1.noticed, s2.noticed)
        assert sorted(s1.responses) == sorted(s2.responses)
        np.testing.assert_allclose(prob.model_counts(s1), again.model_counts(s2), rtol=1e-12)


def test_export_of_sources_without_files_is_refused():
    e = 1.6 + 0.04 * np.arange(4097)
    from nuskybgd.spectral import diagonal_rmf

    spec = Spectrum(Pha(np.arange(4096), np.zeros(4096), 1e3), {1: Response(diagonal_rmf(e))})
    with pytest.raises(Exception, match="no file name"):
        export_xcm(FitProblem([spec], [Source("powerlaw")]))


@pytest.mark.parametrize("line, match", [
    ("fakeit none", "line 2 \\('fakeit none'\\).*not an XSPEC command"),
    ("newpar intbgd:99 1", "line 2 .*no parameter 99"),
    ("newpar intbgd:1 = nosuch:p1", "missing parameter 'nosuch:p1'"),
    ("ignore 1:3.0-x", "line 2 .*cannot read the range"),
    ("statistic pgstat", "line 2 .*not supported"),
])
def test_bad_lines_are_quoted_with_their_number(line, match):
    text = ("statistic cstat\n" + line + "\nmodel  3:intbgd lorentz\n"
            "6.4 -0.05 0 0 1e6 1e6\n0.1 -0.05 0 0 10 20\n1e-3\n")
    with pytest.raises(InputError, match=match):
        parse_xcm(text)


@pytest.mark.parametrize("text, chain", [
    ("model powerlaw\n= p2\n= p1\n", "1 → 2 → 1"),
    ("model  2:a powerlaw\n= b:p2\n1\nmodel  3:b powerlaw\n1\n= a:p1\n", "a:1 → b:2 → a:1"),
    ("model powerlaw\n1.7 0.01\n1\nnewpar 1 = p2\nnewpar 2 = 3*p1\n", "1 → 2 → 1"),
])
def test_circular_links_are_refused_at_import(text, chain):
    with pytest.raises(InputError, match=f"x.xcm: circular parameter link {chain}"):
        parse_xcm(text, "x.xcm")


def test_truncated_model_block_is_reported():
    with pytest.raises(InputError, match="missing 1 parameter lines"):
        parse_xcm("model  2:apbgd cutoffpl\n1.29\n41.13\n")


def test_unnamed_model_with_groups_channels_and_constant(tmp_path):
    """The unnamed source, XSPEC's default group links (= p1 …), channel-number ignores and a
    constant factor (how region weights can enter)."""
    diag = shared_path("nuskybgd-auxil", "diag.rmf")
    for i in (1, 2):
        write_pha(Pha(channels=np.arange(4096), counts=np.full(4096, 2.0), exposure=1e4,
                      header={"TELESCOP": "NuSTAR", "INSTRUME": "FPMA"}), tmp_path / f"s{i}.pha")
    text = f"""query yes
da 1:1 {tmp_path}/s1.pha 2:2 {tmp_path}/s2.pha
resp 1:1 {diag}
resp 1:2 {diag}
ign 1-2:1-35,3711-4096
mo constant*powerlaw
              1      -0.01          0          0      1e+10      1e+10
            1.7       0.01         -3         -2          9         10
           0.01       0.01          0          0      1e+20      1e+24
           0.25      -0.01          0          0      1e+10      1e+10
= p2
= p3
"""
    sess = parse_xcm(text)
    assert sess.data[2] == (2, f"{tmp_path}/s2.pha")
    prob = sess.build()
    assert [s.n_noticed for s in prob.spectra] == [3675, 3675]
    src = prob.source(1)
    assert prob.par(4).value == 0.25 and prob.par(4).frozen and prob.par(6).link.text == "p3"
    # fast path: the free norm and the frozen factor are linear
    prob.freeze(2)
    data = [prob.model_counts(s, noticed_only=True) * 40 for s in prob.spectra]     # exact MLE: 0.4
    for s, d in zip(prob.spectra, data, strict=True):
        full = np.zeros(s.n_groups)
        full[s.noticed] = d
        s.counts = full
    res = prob.fit()
    assert res.method == "linear-norms" and res.free == ["3"]
    assert prob.par(3).value == pytest.approx(0.4, rel=1e-3)
    assert src.par("constant.factor", group=2).value == 0.25
    # XSPEC puts spectra without a group number into data group 1
    assert parse_xcm(f"data {tmp_path}/s1.pha {tmp_path}/s2.pha\n").data == {
        1: (1, f"{tmp_path}/s1.pha"), 2: (1, f"{tmp_path}/s2.pha")}


def test_walkthrough_commands_apply():
    """The walkthrough's XSPEC session, replayed on a small nuskybgd-shaped model."""
    text = """model  4:fcxb cutoffpl
1.29 -0.01 -3 -2 9 10
41.13 -0.01 0.01 1 500 500
1.6e-05 0.01 0 0 1e+20 1e+24
model  5:intn bknpower
-0.05 -0.01 -3 -2 9 10
124.0 -0.01 0 0.01 1e6 1e6
-0.85 -0.01 -3 -2 9 10
3.7e-04 0.01 0 0 1e+20 1e+24
model  3:intbgd lorentz + lorentz
3.53895 -0.05 0 0 1e6 1e6
0.425422 -0.05 0 0 10 20
0.0021 0.01 0 0 1e+20 1e+24
19.6464 -0.05 0 0 1e6 1e6
0.229493 -0.05 0 0 10 20
0.00013 0.01 0 0 1e+20 1e+24
cpd /xw
pl ld rat
newpar intn:4 1e-4
statistic cstat
newpar intbgd:3 0. -0.1
freeze fcxb:*
fit 1000
save all n132d_fit.xcm
"""
    sess = parse_xcm(text)
    intn = next(s for s in sess.sources if s.name == "intn")
    fcxb = next(s for s in sess.sources if s.name == "fcxb")
    intbgd = next(s for s in sess.sources if s.name == "intbgd")
    assert sess.statistic == "cstat"
    assert intn.par(4).value == 1e-4 and not intn.par(4).frozen
    assert intbgd.par(3).value == 0.0 and intbgd.par(3).frozen and not intbgd.par(6).frozen
    assert all(p.frozen for p in fcxb.parameters)


def test_a_spectrum_without_a_response_is_refused_by_the_fit(tmp_path):
    """A real background spectrum (RESPFILE 'none') loaded by an .xcm with no 'response' line has
    nothing to fold a model through: as XSPEC does, the fit refuses it, naming the spectrum,
    instead of "converging" on a model of zero counts."""
    bk = shared_path("real", "vela_x1", "nu90402339002A01_bk.pha")
    diag = shared_path("nuskybgd-auxil", "diag.rmf")
    text = f"statistic cstat\ndata 1:1 {bk}\nignore 1:1-34 1935-**\nmodel  powerlaw\n1.8 0.01\n1e-3 0.01\n"
    problem = parse_xcm(text, tmp_path / "bk.xcm").build()
    assert problem.spectra[0].responses == {}
    with pytest.raises(ModelError, match=rf"spectrum {bk} has no response for any model source"):
        problem.fit()
    assert problem.last_result is None
    # with a second spectrum that has one, the first is still refused by name
    text2 = (f"statistic cstat\ndata 1:1 {bk} 2:2 {bk}\nresponse 1:2 {diag}\nignore 1-2:1-34 1935-**\n"
             "model  powerlaw\n1.8 0.01\n1e-3 0.01\n= p1\n= p2\n")
    with pytest.raises(ModelError, match=rf"spectrum {bk} has no response"):
        parse_xcm(text2, tmp_path / "bk2.xcm").build().fit()
    # an energy range cannot even be applied without a response
    with pytest.raises(ModelError, match=rf"spectrum {bk} has no response, so energies are unknown"):
        parse_xcm(text.replace("1:1-34 1935-**", "1:**-3.0 79.0-**"), tmp_path / "e.xcm").build()
    # once the response is there, the same spectrum fits
    fixed = parse_xcm(text + f"response 1:1 {diag}\n", tmp_path / "ok.xcm").build()
    assert fixed.fit().converged
