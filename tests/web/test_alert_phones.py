"""Whom the SMS webhook texts, from the phones typed on the admin accounts page: the
tutor's account for a raised absence, the campus's coordinators on escalation (not
another campus's, not a disabled account), in E.164; never an e-mail address."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from server.adapters.alert_channels import webhook_payload
from server.container import services_of
from server.domain.accounts import Actor
from server.domain.notices import NoticeKind
from server.registry.account_models import Account
from server.registry.alert_models import Alert
from server.registry.alert_repository import AlertRepository
from tests.web.test_tutor_now import alert_of, morning


def _set_phone(world, login: str, phone: str) -> None:
    accounts = services_of(world.app).accounts
    with world.registry() as session:
        account_id = session.scalar(select(Account.id).where(Account.login == login))
    accounts.set_phone(account_id, phone, Actor("tests", world.clock()))


def test_the_tutor_and_the_coordinators_are_texted_at_their_account_numbers(world) -> None:
    morning(world)  # E002 (Alice's) is absent
    _set_phone(world, "alice", "06 00 00 00 01")
    _set_phone(world, "coord", "04 76 00 00 01")
    _set_phone(world, "coord-other", "04 76 00 00 09")
    accounts = services_of(world.app).accounts
    with world.registry() as session:
        pk = session.scalar(select(Alert.id).where(Alert.public_id == alert_of(world, "E002")))
        repository = AlertRepository(session)
        raised = repository.notice(pk, NoticeKind.RAISED)
        escalated = repository.notice(pk, NoticeKind.ESCALATED)
    at = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    assert webhook_payload(raised, at=at)["to"] == ["+33600000001"]
    assert webhook_payload(escalated, at=at)["to"] == ["+33476000001"]
    assert "@" not in json.dumps(webhook_payload(escalated, at=at))

    with world.registry() as session:
        coord = session.scalar(select(Account.id).where(Account.login == "coord"))
    accounts.set_active(coord, False, Actor("tests", world.clock()))
    with world.registry() as session:
        again = AlertRepository(session).notice(pk, NoticeKind.ESCALATED)
    assert webhook_payload(again, at=at)["to"] == []  # nobody left: the delivery will fail
