"""Accounts: staff and student logins, passwords, API tokens, and which students a member
of staff follows."""
