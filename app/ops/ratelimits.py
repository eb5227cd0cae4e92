"""Rate-limit counters beyond Flask-Limiter's per-route ones, on the same storage.

Flask-Limiter counts requests per route and client address. Some counts need another key
(failed logins per account) or count only some outcomes (failures, not attempts): those use
`count_failure` / `over_limit` / `forget` here, on the limiter's own storage (Redis in
production), so every worker sees the same counts.

When the storage is down, Flask-Limiter falls back to in-process memory
(RATELIMIT_IN_MEMORY_FALLBACK_ENABLED) and logs it; these counters do the same: an error of
the storage is logged and the count goes on in this process's memory, never a 500.
"""
from __future__ import annotations

import logging

from flask import current_app
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from app.extensions import limiter

log = logging.getLogger(__name__)
_FALLBACK_KEY = "pressdesk_counter_fallback"


def add_redis_timeouts(config) -> None:
    """A stopped or unreachable Redis must fail fast (then the fallback counts), not hang a worker."""
    uri = str(config.get("RATELIMIT_STORAGE_URI") or "")
    if uri.startswith(("redis://", "rediss://", "redis+unix://")):
        timeout = float(config.get("RATELIMIT_REDIS_TIMEOUT") or 1.0)
        options = dict(config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        options.setdefault("socket_connect_timeout", timeout)
        options.setdefault("socket_timeout", timeout)
        config["RATELIMIT_STORAGE_OPTIONS"] = options


def _fallback() -> FixedWindowRateLimiter:
    fallback = current_app.extensions.get(_FALLBACK_KEY)
    if fallback is None:
        fallback = current_app.extensions[_FALLBACK_KEY] = FixedWindowRateLimiter(MemoryStorage())
    return fallback


def _each(limits: str):
    return parse_many(limits) if limits else []


def _run(operation, limits: str, key: str, scope: str):
    """`operation(strategy, item, key, scope)` for each limit; on a storage error, in memory.

    With Flask-Limiter turned off (RATELIMIT_ENABLED = False, as the benchmarks run) these limits
    are off too: it has no storage then, and each call used to log "storage unreachable"."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):  # the app's, not the shared Limiter's
        return []
    try:
        return [operation(limiter.limiter, item, key, scope) for item in _each(limits)]
    except Exception as error:  # Redis stopped, refused, timed out
        log.warning("rate-limit storage unreachable (%s): counting %s in this process's memory",
                    type(error).__name__, scope)
        return [operation(_fallback(), item, key, scope) for item in _each(limits)]


def over_limit(limits: str, key: str, scope: str) -> bool:
    """True when one of `limits` ("10 per 15 minutes;...") is used up for `key`."""
    return not all(_run(lambda strategy, item, *ids: strategy.test(item, *ids), limits, key, scope))


def count_failure(limits: str, key: str, scope: str) -> None:
    _run(lambda strategy, item, *ids: strategy.hit(item, *ids), limits, key, scope)


def forget(limits: str, key: str, scope: str) -> None:
    """Start `key` afresh (for example after the owner of the account has proved it)."""
    _run(lambda strategy, item, *ids: strategy.clear(item, *ids), limits, key, scope)


def retry_after_seconds(limits: str, key: str, scope: str) -> int:
    """Seconds until the exhausted limit of `key` resets (at least 1)."""
    import time

    def reset(strategy, item, *ids):
        stats = strategy.get_window_stats(item, *ids)
        return stats.reset_time if stats.remaining <= 0 else 0

    times = _run(reset, limits, key, scope)
    return max(1, int(max(times or [0]) - time.time()))
