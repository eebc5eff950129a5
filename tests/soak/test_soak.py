"""The CI soak: a few hundred mixed calls under ~20% faults (``nox -s soak`` runs 2,000)."""

from __future__ import annotations

import sys

import pytest
from soak_harness import failed_checks, run_soak

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="socket and RSS figures come from /proc"
)


@pytest.mark.timeout(300)  # the global watchdog: any hang fails the run
def test_soak_short(capsys):
    report = run_soak(320, concurrency=16, fault_rate=0.2, seed=11)
    with capsys.disabled():
        print("\n" + "\n".join(report.lines()))
    assert sum(report.faults_injected.values()) >= 0.1 * report.chat_requests
    assert report.outcomes["complete and correct"] >= 0.8 * report.calls
    assert failed_checks(report, rss_budget_mib=15.0) == []
