"""The import's slot syntax that cannot clash with the separator, French headers, the
hint for unquoted ``;`` slots, overlapping slots and the all-or-nothing import, on a
real SQLite registry."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.i18n import set_language
from server.registry.models import AuditEntry, Contract, Student
from server.services.people.student_import import (
    TEMPLATE_EXAMPLE,
    TEMPLATE_HEADER,
    decode,
    read_rows,
    template_csv,
)
from tests.integration.registry.conftest import HEADER, ROW_E001, ROW_E002, csv_bytes, run_import

UNQUOTED = ROW_E001.replace('"', "")
BARS = ROW_E001.replace(
    '"lun 09:00-12:00; mar 14:00-18:00; jeu 09:00-13:00; ven 09:00-10:00"',
    "lun 09:00-12:00 | mar 14:00-18:00 | jeu 09:00-13:00 | ven 09:00-10:00",
)
FRENCH_HEADER = (
    "Identifiant;Nom;Prénom;Courriel;Téléphone;Courriel tuteur;Badge;Heures hebdomadaires;"
    "Créneaux;Début du contrat;Fin du contrat;Formation;Établissement;Type d'établissement"
)


@pytest.fixture(autouse=True)
def _french():
    set_language("fr")
    yield
    set_language("fr")


def _students(registry) -> set[str]:
    with registry() as session:
        return set(session.scalars(select(Student.student_id)))


def _slots(registry, student_id: str) -> list[str]:
    with registry() as session:
        student = session.scalar(select(Student).where(Student.student_id == student_id))
        contract = session.scalar(select(Contract).where(Contract.student_pk == student.id))
        return [f"{s.weekday} {s.start:%H:%M}-{s.end:%H:%M}" for s in contract.slots]


def test_slots_separated_by_bars_or_slashes_need_no_quotes(registry) -> None:
    slashes = BARS.replace("E001", "E003").replace(" | ", "/").replace("04A1B2C3", "")
    report = run_import(registry, csv_bytes(BARS, slashes))
    assert report.ok and report.created == ["E001", "E003"]
    assert (
        _slots(registry, "E001")
        == _slots(registry, "E003")
        == [
            "0 09:00-12:00",
            "1 14:00-18:00",
            "3 09:00-13:00",
            "4 09:00-10:00",
        ]
    )


def test_the_old_semicolon_syntax_still_works_when_quoted(registry) -> None:
    assert run_import(registry, csv_bytes(ROW_E001)).created == ["E001"]


def test_unquoted_semicolon_slots_get_a_hint_with_the_line(registry) -> None:
    report = run_import(registry, csv_bytes(ROW_E002, UNQUOTED))
    assert report.created == ["E002"]
    [problem] = report.errors
    assert problem.line == 3
    assert "débordent" in problem.message and "|" in problem.message
    assert "guillemets" in problem.message


def test_a_row_with_other_extra_values_gets_no_slot_hint(registry) -> None:
    report = run_import(registry, csv_bytes(ROW_E001 + ";extra"))
    assert "débordent" not in report.errors[0].message
    assert "plus de valeurs" in report.errors[0].message


def test_overlapping_slots_are_refused_with_their_line(registry) -> None:
    overlapping = BARS.replace("mar 14:00-18:00", "lun 11:00-14:00")
    report = run_import(registry, csv_bytes(ROW_E002, overlapping))
    assert report.created == ["E002"] and "E001" not in _students(registry)
    assert [(p.line, p.message) for p in report.errors] == [
        (
            3,
            "les créneaux mon 09:00-12:00 et mon 11:00-14:00 se chevauchent :"
            " écrivez-les en un seul créneau",
        )
    ]


def test_french_headers_are_read(registry) -> None:
    row = BARS.replace("2026-09-01", "01/09/2026")
    report = run_import(registry, csv_bytes(row, header=FRENCH_HEADER))
    assert report.ok and report.created == ["E001"] and report.warnings == []
    with registry() as session:
        student = session.scalar(select(Student))
        assert (student.first_name, student.institution_type) == ("Émilie", "public")


def test_the_template_is_french_and_imports_as_it_is(registry) -> None:
    data = template_csv()
    assert data.startswith("\ufeff".encode())
    header, _rows = read_rows(decode(data))
    assert header == list(HEADER.split(";"))
    assert decode(data).splitlines()[0] == ";".join(TEMPLATE_HEADER)
    report = run_import(registry, data)
    assert report.ok and report.created == [TEMPLATE_EXAMPLE[0]]


def test_a_missing_column_is_named_in_the_singular_or_plural(registry) -> None:
    one = run_import(registry, csv_bytes(ROW_E001, header=HEADER.replace("weekly_hours;", "")))
    assert one.errors[0].message == "colonne manquante : weekly_hours"
    header = HEADER.replace("weekly_hours;", "").replace("slots;", "")
    two = run_import(registry, csv_bytes(ROW_E001, header=header))
    assert two.errors[0].message == "colonnes manquantes : weekly_hours, slots"


def test_strict_saves_all_rows_or_none(registry) -> None:
    bad = ROW_E002.replace("E002", "")
    report = run_import(registry, csv_bytes(ROW_E001, bad), strict=True)
    assert report.created == ["E001"] and [p.line for p in report.errors] == [3]
    assert not report.saved
    assert _students(registry) == set()
    with registry() as session:
        assert session.scalars(select(AuditEntry)).all() == []
    report = run_import(registry, csv_bytes(ROW_E001, ROW_E002), strict=True)
    assert report.saved and _students(registry) == {"E001", "E002"}


def test_without_strict_the_good_rows_go_in(registry) -> None:
    report = run_import(registry, csv_bytes(ROW_E001, ROW_E002.replace("E002", "")))
    assert report.saved and _students(registry) == {"E001"}
