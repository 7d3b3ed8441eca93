"""The policy engine: named maskers first (DOMAIN.md, masking), in ``hub.policy.masks``."""

from __future__ import annotations

from hub.policy.masks import MASK_KINDS, MaskConfigError, build_mask

__all__ = ["MASK_KINDS", "MaskConfigError", "build_mask"]
