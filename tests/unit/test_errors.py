"""The server's errors are one family (``server.domain.errors``) and the web maps them in
one place (``server.web.errors``)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from flask import Flask

import server
from server.domain.alerts import AlertClosed
from server.domain.errors import Conflict, DomainError, InvalidInput, NotFound, ServerError
from server.services.alerts.alerts import AlertNotFound
from server.web.api_params import BadParam
from server.web.errors import answer, message_of, status_of
from server.web.forms import FieldError

# Failures of the machinery, not answers to a user: they stay outside the family.
INFRASTRUCTURE = {
    "DeliveryFailed",
    "ChannelUnavailable",
    "EmbeddedBrokerError",
    "EventStoreError",
    "EventStoreUnavailable",
    "OpsError",
    "PartialRestore",
    "RegistryError",
    "WebServerError",
    "NotADemoFolder",
}


def _server_exceptions() -> list[type[BaseException]]:
    found = []
    for module in pkgutil.walk_packages(server.__path__, "server."):
        if ".migrations" in module.name:
            continue
        loaded = importlib.import_module(module.name)
        for _name, value in vars(loaded).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == loaded.__name__
            ):
                found.append(value)
    return found


def test_every_error_the_server_raises_on_purpose_is_of_the_family() -> None:
    errors = _server_exceptions()
    assert len(errors) > 20
    strays = [
        f"{error.__module__}.{error.__name__}"
        for error in errors
        if not issubclass(error, ServerError) and error.__name__ not in INFRASTRUCTURE
    ]
    assert strays == []


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (AlertNotFound(), 404),
        (NotFound("nothing"), 404),
        (AlertClosed(), 409),
        (Conflict("already"), 409),
        (DomainError("a rule"), 400),
        (FieldError("name", "The name is required."), 400),
        (InvalidInput("bad"), 400),
        (BadParam("too_large", "Too large.", status=413), 413),
    ],
)
def test_each_kind_has_its_status(failure: ServerError, status: int) -> None:
    assert status_of(failure) == status


def test_messages_are_translated_once() -> None:
    app = Flask(__name__)
    with app.test_request_context("/api/v1/alerts/x/ack"):
        assert message_of(AlertNotFound()) == "Cette alerte n'existe pas."
        assert message_of(BadParam("bad_x", "déjà traduit")) == "déjà traduit"
        response = answer(AlertNotFound())
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "unknown_alert"
