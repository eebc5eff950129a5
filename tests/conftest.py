"""Fixtures shared by every test directory. Standard library only: isolated sessions install one
package, so nothing here may import a package of this repository."""

from __future__ import annotations

from collections.abc import Iterator

import network_guard
import pytest
from replay_http import ReplayServer, running_replay_server

# Installed at import, before any test module (or the emulator it starts) can read a credential or
# look up a name: a developer's real key never leaves their shell. Connections are limited to
# loopback by pytest-socket (`--allow-hosts` in the root pyproject.toml).
network_guard.install()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--live",
        action="store_true",
        default=False,
        help="run the tests marked `live` against the real Moonshot API (needs MOONSHOT_API_KEY)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--live") and network_guard.stashed_credentials():
        return
    reason = (
        "live test: run `nox -s live` with MOONSHOT_API_KEY set"
        if not config.getoption("--live")
        else "live test: MOONSHOT_API_KEY (or KIMI_API_KEY) is not set"
    )
    for item in items:
        if "live" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _network_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail any test during which a name lookup off loopback was attempted, even if swallowed."""
    network_guard.take_violations()
    if request.node.get_closest_marker("live"):
        network_guard.unguarded_lookups()
        yield
        network_guard.guard_lookups()
        return
    network_guard.guard_lookups()
    yield
    violations = network_guard.take_violations()
    if violations:
        pytest.fail("left loopback: " + "; ".join(violations), pytrace=False)


@pytest.fixture
def replay_server() -> Iterator[ReplayServer]:
    """A loopback HTTP server answering every request with the next canned response, verbatim."""
    with running_replay_server() as server:
        yield server
