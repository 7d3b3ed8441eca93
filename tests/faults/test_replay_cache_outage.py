"""The DPoP replay cache's Redis down, hanging, restarted, or restarted empty.

Down or hanging: every request that needs a proof checked is refused with 503
``REPLAY_CACHE_UNAVAILABLE`` within the Redis timeout (never accepted unchecked, never a 500).
Back: the first request after it serves. Restarted empty: a proof used before is still refused.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import ReplayHub
from tests.faults.test_registry_outage import assert_unavailable

pytestmark = pytest.mark.redis


async def test_a_request_while_the_replay_cache_is_down_is_503_and_never_accepted_unchecked(
    replay_hub: ReplayHub,
) -> None:
    replay_hub.proxy.refuse()
    response = await replay_hub.graphql()
    assert_unavailable(response, "REPLAY_CACHE_UNAVAILABLE")


async def test_a_hanging_replay_cache_is_503_within_the_redis_timeout(replay_hub: ReplayHub) -> None:
    assert (await replay_hub.graphql()).status_code == 200
    replay_hub.proxy.freeze()
    started = time.monotonic()
    response = await replay_hub.graphql()
    waited = time.monotonic() - started
    assert_unavailable(response, "REPLAY_CACHE_UNAVAILABLE")
    assert waited < 2.5, f"waited {waited:.1f} s with redis_timeout = 0.5 s"


async def test_the_first_request_after_the_replay_cache_restarts_is_served(replay_hub: ReplayHub) -> None:
    assert (await replay_hub.graphql()).status_code == 200
    replay_hub.proxy.drop()  # every pooled connection is now dead, as after a Redis restart
    assert (await replay_hub.graphql()).status_code == 200
    replay_hub.proxy.refuse()
    assert (await replay_hub.graphql()).status_code == 503
    replay_hub.proxy.restore()
    assert (await replay_hub.graphql()).status_code == 200


async def test_a_proof_used_before_the_replay_cache_lost_its_data_is_still_refused(
    replay_hub: ReplayHub,
) -> None:
    used = replay_hub.proof()
    assert (await replay_hub.graphql(used)).status_code == 200
    assert (await replay_hub.graphql(used)).status_code == 401  # replayed
    replay_hub.forget_everything()
    replayed = await replay_hub.graphql(used)
    assert replayed.status_code == 401, replayed.text
    assert replayed.json()["error"] == "invalid_dpop_proof"
    assert "data" not in replayed.json()


async def test_a_fresh_proof_after_the_replay_cache_lost_its_data_is_accepted(replay_hub: ReplayHub) -> None:
    replay_hub.forget_everything()
    assert (await replay_hub.graphql()).status_code == 401  # the marker is gone: a new epoch starts now
    time.sleep(1.0)
    assert (await replay_hub.graphql()).status_code == 200
