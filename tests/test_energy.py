"""The PI ↔ energy rule (channel k covers [1.6 + 0.04 k, 1.64 + 0.04 k) keV)."""

from __future__ import annotations

import numpy as np
import pytest

from nuskybgd.energy import band_to_pi, energy_to_pi, pi_to_energy


@pytest.mark.parametrize(("elow", "ehigh", "expected"), [
    (3, 20, (35, 459)),      # CHANMIN/CHANMAX of the real nustar-gen-utils DET1 image
    (20, 40, (460, 959)),    # adjacent bands share no channel
    (3, 78.0, (35, 1909)),   # nuproducts' default image band, PI 35-1909
    (1.6, 165.44, (0, 4095)),
    (3.01, 3.09, (36, 36)),  # off-grid edges keep only whole channels
])
def test_band_to_pi(elow, ehigh, expected):
    assert band_to_pi(elow, ehigh) == expected


def test_band_edges_are_consistent_with_channel_energies():
    lo, hi = band_to_pi(3.0, 79.0)
    assert pi_to_energy(lo) >= 3.0 - 1e-9
    assert pi_to_energy(hi + 1) <= 79.0 + 1e-9
    assert pi_to_energy(lo - 1) < 3.0 and pi_to_energy(hi + 2) > 79.0


def test_energy_to_pi_inverts_pi_to_energy_on_every_channel():
    pis = np.arange(4096)
    energies = pi_to_energy(pis)
    assert isinstance(pi_to_energy(35), float) and pi_to_energy(35) == pytest.approx(3.0)
    assert [energy_to_pi(e) for e in energies[::97]] == list(pis[::97])
    assert energy_to_pi(19.999) == 459 and energy_to_pi(20.0) == 460


@pytest.mark.parametrize(("elow", "ehigh"), [(20, 3), (5, 5), (3.01, 3.03)])
def test_empty_bands_are_refused(elow, ehigh):
    with pytest.raises(ValueError):
        band_to_pi(elow, ehigh)
