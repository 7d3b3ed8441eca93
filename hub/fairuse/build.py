"""The fair-use gate as ``hub.app`` builds it: the settings' counters, the policies' scopes, the audit's pseudonyms."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.audit.records import Pseudonyms
from hub.fairuse.counters import build_counters
from hub.fairuse.gate import FairUse
from hub.fairuse.metrics import FairUseMetrics
from hub.fairuse.quotas import field_scopes

if TYPE_CHECKING:
    from hub.audit.recorder import DisclosureRecorder
    from hub.metrics import Metrics
    from hub.policy import Policies
    from hub.settings import Settings


def build_fair_use(
    settings: Settings, policies: Policies, metrics: Metrics, disclosures: DisclosureRecorder
) -> FairUse:
    async def pseudonyms() -> Pseudonyms:
        return disclosures.store.pseudonyms

    counters = build_counters(
        settings.fair_use_store_url, prefix=settings.fair_use_prefix, timeout=settings.redis_timeout,
    )
    return FairUse(settings.fair_use, counters, FairUseMetrics(metrics.registry), field_scopes(policies), pseudonyms)
