"""``[fair_use]`` in the settings file and a client's own limits: bad values stop start-up (or the
change) with a message naming the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.fairuse.limits import DEFAULT_LIMITS, ClientLimits, FairUseSettings, LimitsError
from hub.settings import SettingsError, load_settings


def test_the_settings_file_sets_the_defaults_every_client_without_its_own_limits_gets(tmp_path: Path) -> None:
    config = tmp_path / "hub.toml"
    config.write_text('[fair_use]\nrate = 5\nburst = 20\ncost_per_minute = 1000\ncost_per_day = 0\n')
    settings = load_settings(config, environment="development")
    assert settings.fair_use == FairUseSettings(True, ClientLimits(5.0, 20, 1000, 0))


def test_the_counters_live_in_the_replay_cache_s_redis_unless_named(tmp_path: Path) -> None:
    shared = load_settings(environment="development", replay_cache_url="redis://r:6379/0")
    assert shared.fair_use_store_url == "redis://r:6379/0"
    own = load_settings(environment="development", replay_cache_url="redis://r:6379/0", fair_use_url="redis://f/1")
    assert own.fair_use_store_url == "redis://f/1"


@pytest.mark.parametrize(("table", "names"), [
    ('rate = 0', "rate"), ('rate = -1', "rate"), ('rate = "fast"', "rate"), ('rate = nan', "rate"),
    ('rate = 1e9', "rate"), ('burst = 0', "burst"), ('burst = 2.5', "burst"), ('burst = true', "burst"),
    ('cost_per_day = -5', "cost_per_day"), ('cost_per_minute = 1e30', "cost_per_minute"),
    ('enabled = "perhaps"', "enabled"), ('utc_offset_minutes = 100000', "utc_offset_minutes"),
    ('requests = 5', "unknown limits: requests"),
])
def test_a_bad_fair_use_value_stops_start_up_naming_it(tmp_path: Path, table: str, names: str) -> None:
    config = tmp_path / "hub.toml"
    config.write_text(f"[fair_use]\n{table}\n")
    with pytest.raises(SettingsError, match=names):
        load_settings(config, environment="development")


def test_a_counter_store_that_is_not_redis_is_refused() -> None:
    with pytest.raises(SettingsError, match="HUB_FAIR_USE_URL"):
        load_settings(environment="development", fair_use_url="postgres://db/counters")


def test_per_process_counters_are_refused_beside_a_shared_replay_cache() -> None:
    with pytest.raises(SettingsError, match="counts limits per process"):
        load_settings(environment="development", replay_cache_url="redis://r/0", fair_use_url="memory")


@pytest.mark.parametrize("raw", [
    {"rate": "1; DROP TABLE clients"}, {"burst": [1]}, {"rate": None}, {"cost_per_day": {"n": 1}},
    {"burst": 10**12}, {"rate": float("inf")}, {"speed": 1},
])
def test_a_client_s_limits_refuse_what_is_not_a_sane_number(raw: dict[str, object]) -> None:
    with pytest.raises(LimitsError):
        ClientLimits.from_mapping(raw)


def test_values_left_out_of_a_client_s_limits_are_the_defaults() -> None:
    assert ClientLimits.from_mapping({"rate": "2.5"}) == ClientLimits(2.5, DEFAULT_LIMITS.burst,
                                                                      DEFAULT_LIMITS.cost_per_minute,
                                                                      DEFAULT_LIMITS.cost_per_day)
