"""The login throttle: failed logins counted per client address and per login typed,
in the registry so every web process agrees (docs/web.md, "Logging in").

Nothing is ever locked: after a few free failures each further failure of a key makes
that key wait longer before its next try (1 s, 2 s, 4 s … up to a cap), answered 429 with
``Retry-After``. A login is counted whether or not it exists, under a hash of what was
typed, so a known and an unknown login answer alike at every count; once the wait is
over, the right password logs in (and clears that login's count). A failure burst (a key
reaching its first wait) is written to the audit log, without the password."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.ports.accounts import ConcurrentUpdate, LoginFailureRecord, LoginThrottleUnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """``free`` failures without wait, then ``base`` doubled per failure up to ``cap``;
    a key's count starts again after ``forget`` without failure."""

    free: int
    cap: timedelta
    base: timedelta = timedelta(seconds=1)
    forget: timedelta = timedelta(minutes=15)

    def wait(self, failures: int) -> timedelta:
        if failures < self.free:
            return timedelta(0)
        doublings = min(failures - self.free, 30)
        return min(self.cap, self.base * (2**doublings))


def login_key(login: str) -> str:
    digest = hashlib.sha256(login.strip().lower().encode()).hexdigest()[:40]
    return f"login:{digest}"


def address_key(address: str) -> str:
    return f"address:{address[:64]}"


class LoginThrottle:
    def __init__(
        self,
        unit_of_work: Callable[[], LoginThrottleUnitOfWork],
        *,
        by_address: ThrottlePolicy,
        by_login: ThrottlePolicy,
        clock: Callable[[], datetime],
    ) -> None:
        self.unit_of_work = unit_of_work
        self.by_address = by_address
        self.by_login = by_login
        self.clock = clock

    def blocked_until(self, address: str, login: str) -> datetime | None:
        """When the next try of this address and login may be made, if later than now."""
        now = self.clock()
        keys = [address_key(address), login_key(login)]
        with self.unit_of_work() as uow:
            rows = [uow.failures.get(key) for key in keys]
        waits = [row.blocked_until for row in rows if row and row.blocked_until]
        latest = max(waits, default=None)
        return latest if latest is not None and latest > now else None

    def failed(self, address: str, login: str) -> None:
        now = self.clock()
        for key, policy in (
            (address_key(address), self.by_address),
            (login_key(login), self.by_login),
        ):
            for _attempt in range(3):  # two processes may insert the same key at once
                try:
                    self._count(key, policy, now, address)
                    break
                except ConcurrentUpdate:
                    log.warning("login throttle: concurrent update of one key, retrying")

    def succeeded(self, login: str) -> None:
        """The right password: this login's count starts again (the address's does not,
        or one valid account would let its holder guess others' passwords freely)."""
        with self.unit_of_work() as uow:
            uow.failures.forget(login_key(login))
            uow.commit()

    def _count(self, key: str, policy: ThrottlePolicy, now: datetime, address: str) -> None:
        with self.unit_of_work() as uow:
            row = uow.failures.locked(key)
            new = row is None
            if row is None:
                row = LoginFailureRecord(key=key, failures=0, last_failure_at=now)
            elif row.last_failure_at <= now - policy.forget:
                row.failures = 0
            row.failures += 1
            row.last_failure_at = now
            wait = policy.wait(row.failures)
            row.blocked_until = now + wait if wait else None
            if new:
                uow.failures.add(row)
            else:
                uow.failures.save(row)
            if row.failures == policy.free:
                uow.audit.record(
                    at=now,
                    actor="system",
                    action="login_failures_burst",
                    entity="login_throttle",
                    entity_id=key,
                    after={"failures": row.failures, "address": address},
                )
            uow.commit()
