"""The optional columns of the student spreadsheet that record a student's academic year
(``domain.outcomes``): the year, programme type, enrolment and departure dates, the
profile the student agreed to give and the result. The student import
(``services.student_import``) reads them with the other columns of a row and saves the
year with the student, in the same transaction; a bad value refuses the row (an outcome
dated before the enrolment too). Without ``academic_year`` on a row, nothing is saved.

Values are the codes (``lmd``, ``job_seeker``…) or their French words
(``licence``, ``demandeur d'emploi``, ``abandon``…), case and accents ignored. The
programme and institution are the row's ``programme`` and ``institution``; whether the
institution is public comes from ``institution_type`` (``public`` / ``privé``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date

from server.domain.academic_year import AcademicYear
from server.domain.errors import DomainError
from server.domain.outcomes import (
    AgeBand,
    ProfileStatus,
    ProgrammeType,
    Result,
    StudentYear,
    check_student_year,
)

COLUMNS = (
    "academic_year",
    "programme_type",
    "enrolment_date",
    "departure_date",
    "age_band",
    "profile_status",
    "result",
    "result_date",
    "result_reason",
)
FRENCH_COLUMNS = {
    "annee_universitaire": "academic_year",
    "type_formation": "programme_type",
    "type_de_formation": "programme_type",
    "date_inscription": "enrolment_date",
    "date_d_inscription": "enrolment_date",
    "date_depart": "departure_date",
    "date_de_depart": "departure_date",
    "tranche_age": "age_band",
    "tranche_d_age": "age_band",
    "situation": "profile_status",
    "profil": "profile_status",
    "resultat": "result",
    "date_resultat": "result_date",
    "date_du_resultat": "result_date",
    "motif": "result_reason",
    "motif_resultat": "result_reason",
}
_WORDS: dict[str, dict[str, str]] = {
    "programme_type": {
        "licence": "lmd",
        "master": "lmd",
        "doctorat": "lmd",
        "autre": "other",
    },
    "age_band": {
        "": "not_given",
        "non_communique": "not_given",
        "moins_de_20": "under_20",
        "moins_de_20_ans": "under_20",
        "20_24_ans": "20_24",
        "25_29_ans": "25_29",
        "30": "30_plus",
        "30_ans_et_plus": "30_plus",
        "30_et_plus": "30_plus",
    },
    "profile_status": {
        "": "not_given",
        "non_communique": "not_given",
        "neo_bachelier": "recent_bachelor",
        "en_emploi": "employed",
        "salarie": "employed",
        "demandeur_d_emploi": "job_seeker",
        "demandeur_emploi": "job_seeker",
        "reconversion": "career_change",
        "reprise_d_etudes": "return_to_study",
        "reprise_etudes": "return_to_study",
    },
    "result": {
        "": "pending",
        "en_cours": "pending",
        "diplome": "passed",
        "diplome_obtenu": "passed",
        "reussite": "passed",
        "admis": "passed",
        "passage": "passed",
        "annee_suivante": "passed",
        "echec": "failed",
        "abandon": "dropped_out",
        "reorientation": "reoriented",
        "reoriente": "reoriented",
    },
}
_CODES = {
    "programme_type": [kind.value for kind in ProgrammeType],
    "age_band": [band.value for band in AgeBand],
    "profile_status": [status.value for status in ProfileStatus],
    "result": [result.value for result in Result],
}
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def _plain(text: str) -> str:
    """Lower case, accents dropped, runs of spaces, ``'``, ``-`` and ``+`` as ``_``."""
    text = unicodedata.normalize("NFKD", text.strip().lower())
    text = "".join(char for char in text if not unicodedata.combining(char))
    return re.sub(r"[\s'’+-]+", "_", text).strip("_")


def _code(values: Mapping[str, str], column: str) -> str:
    raw = values.get(column, "")
    plain = _plain(raw)
    if plain in _CODES[column]:
        return plain
    found = _WORDS[column].get(plain)
    if found is None:
        raise DomainError(
            "{column}: unknown value {value} (expected one of {codes})",
            column=column,
            value=raw.strip(),
            codes=", ".join(_CODES[column]),
        )
    return found


def _day(values: Mapping[str, str], column: str) -> date | None:
    raw = values.get(column, "").strip()
    if not raw:
        return None
    try:
        found = _DMY.fullmatch(raw)
        if found:
            return date(int(found[3]), int(found[2]), int(found[1]))
        return date.fromisoformat(raw)
    except ValueError:
        raise DomainError("{column}: {value} is not a date", column=column, value=raw) from None


def _public(institution_type: str) -> bool | None:
    return {"public": True, "prive": False, "private": False}.get(_plain(institution_type))


def parse_outcome(values: Mapping[str, str]) -> StudentYear | None:
    """The row's academic year, checked (``DomainError`` otherwise), with ``student_pk``
    0 until the student is saved; None when the row gives no ``academic_year`` and no
    other outcome value."""
    year_text = values.get("academic_year", "").strip()
    if not year_text:
        if any(values.get(column, "").strip() for column in COLUMNS):
            raise DomainError("academic_year is needed with the outcome columns")
        return None
    try:
        year = AcademicYear.parse(year_text)
    except ValueError:
        raise DomainError(
            "academic_year: {value} is not an academic year like 2026-2027", value=year_text
        ) from None
    programme_type = values.get("programme_type", "").strip()
    record = StudentYear(
        student_pk=0,
        student_id=values.get("student_id", ""),
        campus_id="",
        year=year,
        programme=values.get("programme", "")[:200],
        programme_type=ProgrammeType(
            _code(values, "programme_type") if programme_type else ProgrammeType.OTHER
        ),
        institution=values.get("institution", "")[:200],
        institution_public=_public(values.get("institution_type", "")),
        enrolled_on=_day(values, "enrolment_date"),
        left_on=_day(values, "departure_date"),
        age_band=AgeBand(_code(values, "age_band")),
        status=ProfileStatus(_code(values, "profile_status")),
        result=Result(_code(values, "result")),
        result_on=_day(values, "result_date"),
        result_reason=values.get("result_reason", "").strip()[:500],
    )
    check_student_year(record)
    return record
