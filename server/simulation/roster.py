"""The demo's students, as the coordinator's spreadsheet would list them (invented people)."""

from __future__ import annotations

from datetime import date

FIRST_NAMES = ["Émilie", "Lucas", "Inès", "Karim", "Chloé", "Hugo", "Léa", "Yanis", "Manon", "Théo"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Garcia", "Roux", "Fournier"]
TUTORS = [
    ("claire.tutrice@demo.campus", "Claire Moulin", "04 76 00 00 01"),
    ("marc.tuteur@demo.campus", "Marc Lefèvre", "04 76 00 00 02"),
]
SLOTS = [
    "lun 09:00-12:00; mar 09:00-12:00; jeu 09:00-12:00; ven 09:00-12:00",
    "lun 10:00-13:00; mer 10:00-13:00; jeu 14:00-17:00; ven 10:00-13:00",
]


def demo_sheet(badges: list[str], *, contract_start: date, contract_end: date) -> bytes:
    """A CSV with one contract of 12 h a week per badge, ``;``-separated like French Excel;
    the students are shared between the two demo tutors."""
    columns = "student_id last_name first_name email phone tutor_email badge_uid weekly_hours slots"
    rows = [";".join([*columns.split(), "contract_start", "contract_end"])]
    for index, uid in enumerate(badges):
        rows.append(
            ";".join(
                [
                    f"D{index + 1:03d}",
                    LAST_NAMES[index % len(LAST_NAMES)],
                    FIRST_NAMES[index % len(FIRST_NAMES)],
                    f"d{index + 1:03d}@etudiant.demo",
                    f"06 00 00 {index // 100:02d} {index % 100:02d}",
                    TUTORS[index % 2][0],
                    uid,
                    "12",
                    f'"{SLOTS[index % 3 == 0]}"',
                    contract_start.isoformat(),
                    contract_end.isoformat(),
                ]
            )
        )
    return ("\n".join(rows) + "\n").encode()


def academic_year(today: date) -> tuple[date, date]:
    """1 September to 31 August around ``today``."""
    start_year = today.year if today.month >= 9 else today.year - 1
    return date(start_year, 9, 1), date(start_year + 1, 8, 31)
