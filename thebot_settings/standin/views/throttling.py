"""THE_BOT's view-level limits, on only when the project throttles at all (``STANDIN_THROTTLE=1``).

THE_BOT limits logins to 5 a minute per IP and the lessons list to 10 requests a minute per
user, on top of its 10 requests a second burst limit per client. A view names its limit with
DRF's ``throttle_scope``; the rates are in ``REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']``.
"""

from __future__ import annotations

from rest_framework.throttling import ScopedRateThrottle


class ScopedWhenThrottling:
    """Adds the view's scoped limit (``throttle_scope``) when the project's throttles are on."""

    def get_throttles(self) -> list:
        throttles = super().get_throttles()  # type: ignore[misc]
        if throttles:
            throttles.append(ScopedRateThrottle())
        return throttles
