"""Accounts: staff and student logins, passwords, API tokens, failed-login throttling, and
which students a member of staff follows. Storage only through ``server.ports.accounts``
(``AccountsUnitOfWork``, and ``LoginThrottleUnitOfWork`` for the throttle)."""
