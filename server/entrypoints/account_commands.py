"""``campus-presence create-admin``: the first account of a deployment (the others are
made in the web app). The password comes from ``CAMPUS_ADMIN_PASSWORD``, from standard
input with ``--password-stdin``, or is asked twice on the terminal; never an argument
(it would show in the process list and the shell history)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import UTC, datetime

from server.domain.accounts import Actor, Role
from server.domain.errors import DomainError
from server.entrypoints.presence_commands import presence
from server.i18n import _
from server.registry.account_store import accounts_unit_of_work
from server.services.accounts.accounts import AccountService


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    create = subparsers.add_parser("create-admin", help="create an administrator account")
    create.add_argument("--login", required=True, help="e.g. the administrator's e-mail")
    create.add_argument("--name", default="", help="name shown in the web app")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(handler=create_admin_command)


def _password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if os.environ.get("CAMPUS_ADMIN_PASSWORD"):
        return os.environ["CAMPUS_ADMIN_PASSWORD"]
    first = getpass.getpass(_("Password: "))
    if getpass.getpass(_("Password, again: ")) != first:
        print(_("The two passwords differ."), file=sys.stderr)
        return None
    return first


def create_admin_command(args: argparse.Namespace) -> int:
    password = _password(args)
    if password is None:
        return 1
    with presence(args) as context:
        accounts = AccountService(accounts_unit_of_work(context.registry))
        try:
            account = accounts.create(
                login=args.login,
                password=password,
                role=Role.ADMIN,
                display_name=args.name,
                actor=Actor(f"cli:{getpass.getuser()}", datetime.now(UTC)),
            )
        except DomainError as failure:
            print(_(failure.message, **failure.values), file=sys.stderr)
            return 1
    print(_("Administrator {login} created.", login=account.login))
    return 0
