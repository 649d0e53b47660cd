"""Accounts: the list, a new account (its initial password typed or generated and
shown once), disable/enable, reset a password, a phone number (a coordinator's is
texted when an alert is escalated). Everything goes through
:class:`AccountService`, which keeps its own rules (password strength, links)."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from server.domain.accounts import Role
from server.domain.errors import DomainError
from server.i18n import _
from server.services.accounts.accounts import AccountService
from server.services.accounts.admin_accounts import generate_password
from server.services.people.admin_badges import student_ref
from server.services.people.admin_students import tutors
from server.web.admin import blueprint, fields
from server.web.admin.common import (
    actor,
    admin_only,
    flash_success,
    visible_campuses,
)
from server.web.context import people, services
from server.web.forms import FieldError, choice, integer, refused, text
from server.web.guards import check_campus, current

_ROLES = tuple(role.value for role in Role)


def _accounts() -> AccountService:
    return services().accounts


def _page(status: int = 200, **extra: object) -> tuple[str, int]:
    values = {"error": None, "error_field": None, "error_form": None, "secret": None, "form": {}}
    page = render_template(
        "admin/accounts.html",
        accounts=_accounts().accounts(),
        campuses=visible_campuses(),
        tutors=tutors(people()),
        roles=_ROLES,
        **(values | extra),
    )
    return page, status


def _refused(failure: FieldError | DomainError, which: str, **extra: object) -> tuple[str, int]:
    """The page again with the message, next to the form ``which`` that was refused."""
    if isinstance(failure, FieldError):
        message = refused(failure, f"admin_{which}")
        return _page(400, error=message, error_field=failure.field, error_form=which, **extra)
    return _page(400, error=_(failure.message, **failure.values), error_form=which, **extra)


@blueprint.get("/accounts")
@admin_only
def accounts() -> tuple[str, int]:
    return _page()


def _links(form: dict[str, str], role: Role, campus: str) -> tuple[str, int | None, int | None]:
    """(campus, tutor row, student row) of a new account, from the fields of its role."""
    if role is Role.TUTOR:
        tutor_id = integer(form, "tutor_id", minimum=1, maximum=2**31)
        return campus, tutor_id, None
    if role is Role.STUDENT:
        student_id = text(form, "student_id", max_chars=64)
        student = student_ref(people(), student_id)
        if student is None:
            raise FieldError(
                "student_id", "There is no student {student_id}.", student_id=student_id
            )
        check_campus(student.campus_id)
        return student.campus_id, None, student.pk
    return campus, None, None


@blueprint.post("/accounts")
@admin_only
def create_account() -> tuple[str, int]:
    form = request.form
    try:
        login = text(form, "login", max_chars=254)
        role = Role(choice(form, "role", _ROLES))
        campus = choice(form, "campus", ["", *(c.id for c in visible_campuses())])
        if not campus and current().campus_id:
            raise FieldError("campus", "Choose one of the proposed values.")
        campus, tutor_id, student_pk = _links(dict(form), role, campus)
        password = form.get("password", "") or generate_password()
        created = _accounts().create(
            login=login,
            password=password,
            role=role,
            actor=actor(),
            display_name=text(form, "display_name", required=False),
            campus_id=campus,
            tutor_id=tutor_id,
            student_pk=student_pk,
            phone=text(form, "phone", required=False, max_chars=40),
        )
    except (FieldError, DomainError) as failure:
        return _refused(failure, "create", form={**form, "password": ""})
    shown = password if not form.get("password") else None
    message = _("Account {login} created.", login=created.login)
    return _page(secret={"login": created.login, "password": shown, "message": message})


def _account_id() -> int:
    account_id = integer(request.form, "account_id", minimum=1, maximum=2**31)
    if not any(account.id == account_id for account in _accounts().accounts()):
        abort(404)
    return account_id


@blueprint.post("/accounts/active")
@admin_only
def set_active() -> Response | tuple[str, int]:
    try:
        account_id = _account_id()
        active = fields.checkbox(request.form, "active")
        if not active and account_id == current().account_id:
            raise FieldError("active", "You cannot disable your own account.")
        _accounts().set_active(account_id, active, actor())
    except (FieldError, DomainError) as failure:
        return _refused(failure, "active")
    if active:
        flash_success("The account is enabled.")
    else:
        flash_success("The account is disabled: its sessions are closed.")
    return redirect(url_for("admin.accounts"))


@blueprint.post("/accounts/phone")
@admin_only
def set_phone() -> Response | tuple[str, int]:
    """The account's phone: a coordinator's receives the escalated alerts by SMS."""
    try:
        account_id = _account_id()
        phone = text(request.form, "phone", required=False, max_chars=40)
        number = _accounts().set_phone(account_id, phone, actor())
    except (FieldError, DomainError) as failure:
        return _refused(failure, f"phone-{request.form.get('account_id', '')}")
    if number:
        flash_success("The phone number is saved.")
    else:
        flash_success("The phone number is removed.")
    return redirect(url_for("admin.accounts"))


@blueprint.post("/accounts/password")
@admin_only
def reset_password() -> tuple[str, int]:
    try:
        account_id = _account_id()
        password = request.form.get("password", "") or generate_password()
        _accounts().reset_password(account_id, password, actor())
    except (FieldError, DomainError) as failure:
        return _refused(failure, f"password-{request.form.get('account_id', '')}")
    login = next(item.login for item in _accounts().accounts() if item.id == account_id)
    shown = password if not request.form.get("password") else None
    message = _("The password of {login} is changed; the account is unlocked.", login=login)
    return _page(secret={"login": login, "password": shown, "message": message})
