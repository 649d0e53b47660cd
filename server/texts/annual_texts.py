"""The annual grid's words, in the current language: a label per indicator, criterion
and breakdown value, and how each figure is shown (the page, the workbook, the CLI)."""

from __future__ import annotations

from server.domain.annual_report import Value
from server.i18n import _

SHARES = {
    "public_share",
    "success_rate",
    "failed_rate",
    "dropped_out_rate",
    "reoriented_rate",
    "hours_ratio",
    "called_same_day_share",
    "utilisation",
    "reader_availability",
}

SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Students", ("headcount", "headcount_change", "headcount_average", "public_students",
                  "public_share", "tutors", "students_per_tutor")),
    ("Outcomes", ("outcomes_recorded", "success_rate", "failed_rate", "dropped_out_rate",
                  "reoriented_rate")),
    ("Hours", ("hours_committed", "hours_attended", "hours_ratio")),
    ("Absences and calls", ("absences_noticed", "absences_needing_call",
                            "called_same_day_share", "median_minutes_to_call")),
    ("Place and opening", ("capacity", "area_m2", "m2_per_place", "m2_per_person_at_peak",
                           "occupancy_peak", "occupancy_average", "utilisation", "days_open",
                           "hours_open", "hours_open_evenings", "hours_open_weekends",
                           "reader_availability")),
    ("Campus life", ("workshops", "workshop_attendance", "interviews", "exams_on_site",
                     "exam_candidates", "copil")),
)  # fmt: skip


def section_title(name: str) -> str:
    return {
        "Students": _("Students"),
        "Outcomes": _("Outcomes"),
        "Hours": _("Hours"),
        "Absences and calls": _("Absences and calls"),
        "Place and opening": _("Place and opening"),
        "Campus life": _("Campus life"),
    }[name]


def indicator_label(key: str) -> str:
    return {
        "headcount": _("Headcount"),
        "headcount_change": _("Change from the previous year"),
        "headcount_average": _("Yearly average headcount"),
        "public_students": _("Enrolled with a public institution"),
        "public_share": _("Share enrolled with a public institution"),
        "tutors": _("Tutors"),
        "students_per_tutor": _("Students per tutor"),
        "outcomes_recorded": _("Results recorded"),
        "success_rate": _("Success rate (diploma or next year)"),
        "failed_rate": _("Failure rate"),
        "dropped_out_rate": _("Drop-out rate"),
        "reoriented_rate": _("Re-orientation rate"),
        "hours_committed": _("Hours committed"),
        "hours_attended": _("Hours attended"),
        "hours_ratio": _("Hours attended ÷ committed"),
        "absences_noticed": _("Absences noticed"),
        "absences_needing_call": _("Needing a call"),
        "called_same_day_share": _("Share called the same day"),
        "median_minutes_to_call": _("Median time to call (minutes)"),
        "capacity": _("Capacity"),
        "area_m2": _("Surface (m²)"),
        "m2_per_place": _("m² per place"),
        "m2_per_person_at_peak": _("m² per learner at the peak"),
        "occupancy_peak": _("Peak occupancy"),
        "occupancy_average": _("Average occupancy (opening hours)"),
        "utilisation": _("Utilisation"),
        "days_open": _("Days open"),
        "hours_open": _("Hours open"),
        "hours_open_evenings": _("of which evenings (after 18:00)"),
        "hours_open_weekends": _("of which weekends"),
        "reader_availability": _("Reader availability"),
        "workshops": _("Workshops"),
        "workshop_attendance": _("Workshop attendance"),
        "interviews": _("Individual interviews"),
        "exams_on_site": _("Exams held on site"),
        "exam_candidates": _("Candidates at exams on site"),
        "copil": _("Steering committee (COPIL) meetings"),
    }.get(key, key)


def criterion_label(key: str) -> str:
    return {
        "min_students": _("At least 15 students"),
        "public_share": _("At least 70 % enrolled with a public institution"),
        "students_per_tutor": _("At most 20 students per tutor"),
    }.get(key, key)


def breakdown_label(key: str) -> str:
    return {
        "status": _("Headcount by status"),
        "age_band": _("Headcount by age band"),
        "programme_type": _("Headcount by programme type"),
        "institution_type": _("Headcount by institution type"),
        "hours_distribution": _("Students by hours attended ÷ committed"),
        "workshop_themes": _("Workshop themes"),
        "interview_modality": _("Interviews by modality"),
    }.get(key, key)


def value_label(value: str) -> str:
    return {
        "not_recorded": _("not recorded"),
        "": _("not recorded"),
        "under_50": _("under 50 %"),
        "50_80": _("50 to 80 %"),
        "80_100": _("80 to 100 %"),
        "100_plus": _("100 % or more"),
        "public": _("public"),
        "private": _("private"),
        "lmd": _("LMD (licence, master, doctorate)"),
        "daeu": _("DAEU"),
        "bts": _("BTS"),
        "other": _("other"),
        "recent_bachelor": _("recent bachelor"),
        "employed": _("employed"),
        "job_seeker": _("job-seeker"),
        "career_change": _("career change"),
        "return_to_study": _("return to study"),
        "under_20": _("under 20"),
        "20_24": _("20 to 24"),
        "25_29": _("25 to 29"),
        "30_plus": _("30 or more"),
        "on_site": _("on site"),
        "phone": _("phone"),
        "video": _("video"),
    }.get(value, value)


def met_text(met: bool | None) -> str:
    if met is None:
        return _("cannot be judged")
    return _("met") if met else _("not met")


def shown(key: str, value: Value) -> str:
    """A figure as text: "not recorded" for None, shares in per cent."""
    if value is None:
        return _("not recorded")
    if key in SHARES and isinstance(value, int | float):
        return f"{value * 100:.0f} %"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
