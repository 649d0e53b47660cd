"""Labels of the codes of students' academic years and of the activity log, translated
when a page is drawn (the codes themselves are stored)."""

from __future__ import annotations

from server.i18n import _


def programme_types() -> dict[str, str]:
    return {
        "lmd": _("LMD (licence, master, doctorate)"),
        "daeu": _("DAEU"),
        "bts": _("BTS"),
        "other": _("Other programme"),
    }


def age_bands() -> dict[str, str]:
    return {
        "not_given": _("Not given"),
        "under_20": _("Under 20"),
        "20_24": _("20 to 24"),
        "25_29": _("25 to 29"),
        "30_plus": _("30 and over"),
    }


def statuses() -> dict[str, str]:
    return {
        "not_given": _("Not given"),
        "recent_bachelor": _("Recent bachelor"),
        "employed": _("Employed"),
        "job_seeker": _("Job-seeker"),
        "career_change": _("Career change"),
        "return_to_study": _("Return to study"),
    }


def results() -> dict[str, str]:
    return {
        "pending": _("Not recorded yet"),
        "passed": _("Diploma obtained or next year"),
        "failed": _("Failed"),
        "dropped_out": _("Dropped out"),
        "reoriented": _("Re-oriented"),
    }


def institution_kinds() -> dict[str, str]:
    return {"": _("Not known"), "public": _("Public"), "private": _("Private")}


def modalities() -> dict[str, str]:
    return {"on_site": _("On site"), "phone": _("Phone"), "video": _("Video")}


def kinds() -> dict[str, str]:
    return {
        "workshop": _("Collective workshop"),
        "interview": _("Individual interview"),
        "exam": _("Exam held on site"),
        "meeting": _("Steering committee (COPIL)"),
    }


def template_values() -> dict[str, object]:
    return {
        "programme_type_labels": programme_types(),
        "age_band_labels": age_bands(),
        "status_labels": statuses(),
        "result_labels": results(),
        "institution_kind_labels": institution_kinds(),
        "modality_labels": modalities(),
        "activity_kind_labels": kinds(),
    }
