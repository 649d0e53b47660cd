"""Alert channels of a campus: e-mail (SMTP, recipients), webhook (address and the NAME
of the environment variable holding its secret), MQTT events, escalation delay; the
state of each channel (failing since when, last error) and a button that sends a test
message through it now."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from server.adapters.alert_channels import MIN_SECRET_CHARS, webhook_secret_problem
from server.container import built
from server.i18n import _
from server.ports.alerts import ChannelSettings
from server.services.alerts.admin_channels import SMTP_SECURITY, TESTABLE, AlertChannelsAdmin
from server.web.admin import blueprint, fields
from server.web.admin.common import (
    actor,
    admin_only,
    chosen_campus,
    flash_error,
    flash_success,
)
from server.web.context import services
from server.web.forms import FieldError, choice, integer, refused, text

CHANNEL_LABELS = {"email": "E-mail", "webhook": "Webhook (SMS gateway)", "mqtt": "MQTT"}


def read_settings(
    form: Mapping[str, str], environ: Mapping[str, str] = os.environ
) -> ChannelSettings:
    """The settings typed in the form; a channel switched on needs what it sends with
    (a webhook, a secret of at least 16 characters in the variable it names, in the
    server's ``environ``: the server would refuse to start otherwise)."""
    email_on = fields.checkbox(form, "email_enabled")
    webhook_on = fields.checkbox(form, "webhook_enabled")
    settings = ChannelSettings(
        base_url=fields.web_address(form, "base_url", required=email_on or webhook_on),
        coordinator_emails=fields.emails(form, "coordinator_emails", required=email_on),
        escalation_minutes=integer(form, "escalation_minutes", minimum=1, maximum=1440),
        email_enabled=email_on,
        smtp_host=text(form, "smtp_host", required=email_on),
        smtp_port=integer(form, "smtp_port", minimum=1, maximum=65535),
        smtp_security=choice(form, "smtp_security", SMTP_SECURITY),
        smtp_username=text(form, "smtp_username", required=False),
        smtp_password_env=fields.env_name(form, "smtp_password_env"),
        from_address=fields.email(form, "from_address", required=email_on),
        webhook_enabled=webhook_on,
        webhook_url=fields.web_address(form, "webhook_url", required=webhook_on),
        webhook_secret_env=fields.env_name(form, "webhook_secret_env"),
        mqtt_enabled=fields.checkbox(form, "mqtt_enabled"),
    )
    secret_env = settings.webhook_secret_env
    if webhook_on and webhook_secret_problem(environ.get(secret_env, "")):
        raise FieldError(
            "webhook_secret_env",
            "The webhook cannot be switched on: the server's environment variable {name} "
            "must hold a secret of at least {count} characters (it is not set or too short).",
            name=secret_env,
            count=MIN_SECRET_CHARS,
        )
    return settings


def _admin() -> AlertChannelsAdmin:
    return built(services().alert_channels_admin)


def _page(settings: ChannelSettings | Mapping[str, object] | None = None, **extra: object) -> str:
    campus, campuses = chosen_campus()
    enabled = _admin().settings(campus.id)
    shown = settings if settings is not None else enabled
    values = {"error": None, "error_field": None, **extra}
    return render_template(
        "admin/channels.html",
        campus=campus,
        campuses=campuses,
        settings=shown,
        securities=SMTP_SECURITY,
        health=built(services().delivery_health).campus_channels(campus.id),
        testable=[name for name in TESTABLE if getattr(enabled, f"{name}_enabled")],
        **values,
    )


@blueprint.get("/channels")
@admin_only
def channels() -> str:
    return _page()


@blueprint.post("/channels")
@admin_only
def save_channels() -> Response | tuple[str, int]:
    campus, _campuses = chosen_campus()
    form = request.form
    try:
        settings = read_settings(form)
    except FieldError as failure:
        message = refused(failure, "admin_channels")
        typed = {name: form.get(name, "") for name in form} | {
            name: fields.checkbox(form, name)
            for name in ("email_enabled", "webhook_enabled", "mqtt_enabled")
        }
        return _page(typed, error=message, error_field=failure.field), 400
    _admin().save(campus.id, settings, actor())
    flash_success("The alert channels of {campus} are saved.", campus=campus.name)
    return redirect(url_for("admin.channels", campus=campus.id))


@blueprint.post("/channels/test")
@admin_only
def test_channel() -> Response:
    """Send a test message through one channel now; the result comes back as a notice."""
    campus, _campuses = chosen_campus()
    name = request.form.get("channel", "")
    if name not in TESTABLE:
        flash_error("There is no such channel.")
        return redirect(url_for("admin.channels", campus=campus.id))
    result = _admin().send_test(campus.id, name, actor())
    label = _(CHANNEL_LABELS[name])
    if result.ok:
        flash_success("The test message was sent by {channel}.", channel=label)
    else:
        flash_error(
            "The test message could not be sent by {channel}: {error}",
            channel=label,
            error=result.error,
        )
    return redirect(url_for("admin.channels", campus=campus.id))
