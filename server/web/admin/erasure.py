"""A student's erasure (their right to erasure): a confirmation page that says what
will be erased and what is kept, and asks to type the student id; then the erasure,
one transaction in :mod:`server.services.privacy.erasure`."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from server.container import built
from server.services.privacy import erasure
from server.web.admin import blueprint
from server.web.admin.common import actor, admin_only, flash_success, now
from server.web.context import services
from server.web.forms import FieldError, refused
from server.web.guards import check_campus, current


def _erasure() -> erasure.Erasure:
    return built(services().erasure)


def _preview_or_404(student_id: str) -> erasure.ErasurePreview:
    found = _erasure().preview(student_id, now())
    if found is None:
        abort(404)
    check_campus(found.campus_id)
    return found


def _page(found: erasure.ErasurePreview, *, error: str | None = None) -> str:
    services().access_log.viewed(
        current(), entity="student", entity_id=found.student_id, what="admin_erasure", at=now()
    )
    return render_template(
        "admin/erasure.html",
        student=found,
        counts=found.counts,
        retention_days=services().settings.events.retention_days,
        error=error,
    )


@blueprint.get("/students/<student_id>/erasure")
@admin_only
def confirm_erasure(student_id: str) -> str:
    return _page(_preview_or_404(student_id))


@blueprint.post("/students/<student_id>/erase")
@admin_only
def erase_student(student_id: str) -> Response | tuple[str, int]:
    found = _preview_or_404(student_id)
    if not found.already_erased and request.form.get("confirm_id", "").strip() != found.student_id:
        failure = FieldError(
            "confirm_id",
            "Type the student id {student_id} exactly to confirm: nothing was erased.",
            student_id=found.student_id,
        )
        return _page(found, error=refused(failure, "admin_erasure")), 400
    report = _erasure().erase(student_id, actor())
    if report is None:  # pragma: no cover - erased by someone else between the two reads
        abort(404)
    if report.already_erased:
        flash_success("This student was already erased: nothing changed.")
    else:
        flash_success(
            "The student is erased. Their anonymous records now read {student_id}.",
            student_id=report.student_id,
        )
    return redirect(url_for("admin.students", campus=report.campus_id))
