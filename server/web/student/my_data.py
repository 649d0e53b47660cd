"""``/me/data`` (what the campus holds about me) and ``/me/data.json`` (a copy of it to
download: GDPR right of access). The download is recorded in the audit log."""

from __future__ import annotations

import json
import re

from flask import Response, render_template

from server.domain.accounts import Role
from server.services.privacy.student_data import as_json
from server.web.guards import roles
from server.web.student import blueprint
from server.web.student.context import data, downloaded, me, now


@blueprint.get("/data", endpoint="data")
@roles(Role.STUDENT)
def data_page() -> str:
    mine = data().everything(me().student_pk, now())
    return render_template("student/data.html", data=mine)


@blueprint.get("/data.json", endpoint="data_export")
@roles(Role.STUDENT)
def data_export() -> Response:
    who = me()
    body = json.dumps(
        as_json(data().everything(who.student_pk, now())), ensure_ascii=False, indent=2
    )
    downloaded(who.student_id, "my_data.json")
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "_", who.student_id)
    filename = f"mes-donnees-{safe_id}-{now().date().isoformat()}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
