"""No "(s)" plural hack is left in what people read, and each count-bearing text takes
the plural form of its language: French says 0 and 1 in the singular, English 1 only."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from server.i18n import _plurals, ngettext

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "server"
HACK = re.compile(r"\w\((?:s|x|e|es)\)")  # week(s), créneau(x), supprimé(e)(s)
LOG_CALLS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
# Legitimate: the operator's configuration errors are English only, not translated.
ALLOWED = {("server/config.py", "unknown key(s) in [")}
TEMPLATE_TEXT = re.compile(r"""(?:_|ngettext)\(\s*(["'])(.+?)(?<!\\)\1""", re.DOTALL)


def _python_texts(path: Path) -> list[str]:
    """String literals of a module, except docstrings and the messages of logging calls."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    logged: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in LOG_CALLS:
            logged |= {id(child) for arg in node.args for child in ast.walk(arg)}
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            logged.add(id(node.value))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in logged
    ]


def _allowed(path: Path, text: str) -> bool:
    where = str(path.relative_to(ROOT))
    return any(where == file and part in text for file, part in ALLOWED)


def _hacks() -> list[tuple[str, str]]:
    found = []
    for path in sorted(SERVER.rglob("*.py")):
        for text in _python_texts(path):
            if HACK.search(text) and not _allowed(path, text):
                found.append((str(path.relative_to(ROOT)), text[:80]))
    for path in sorted((SERVER / "web" / "templates").rglob("*.html")):
        for _quote, text in TEMPLATE_TEXT.findall(path.read_text(encoding="utf-8")):
            if HACK.search(text):
                found.append((str(path.relative_to(ROOT)), text[:80]))
    return found


def test_no_plural_hack_in_templates_or_code() -> None:
    assert _hacks() == []


def test_the_scan_finds_a_hack_where_there_is_one(tmp_path) -> None:
    module = tmp_path / "m.py"
    module.write_text('"""Doc(s)."""\nlog.info("%d week(s)", n)\nmessage = _("{count} week(s)")\n')
    assert _python_texts(module) == ["{count} week(s)"]
    assert HACK.search("{count} créneau(x)") and not HACK.search("(see below)")


# (singular, plural, French for 1, French for 2) of each converted family.
FAMILIES = [
    ("{count} unknown badge waiting", "{count} unknown badges waiting",
     "1 badge inconnu en attente", "2 badges inconnus en attente"),
    ("Tutor notes: {count} deleted.", "Tutor notes: {count} deleted.",
     "Notes des tuteurs : 1 supprimée.", "Notes des tuteurs : 2 supprimées."),
    ("{count} open alert closed", "{count} open alerts closed",
     "1 alerte ouverte clôturée", "2 alertes ouvertes clôturées"),
    ("{count} weekly record", "{count} weekly records", "1 semaine arrêtée", "2 semaines arrêtées"),
    ("{count} room", "{count} rooms", "1 salle", "2 salles"),
    ("{count} session closed automatically at closing time: confirm it or correct its times.",
     "{count} sessions closed automatically at closing time: confirm them or correct their times.",
     "1 présence close automatiquement à la fermeture : confirmez-la ou corrigez ses horaires.",
     "2 présences closes automatiquement à la fermeture : confirmez-les ou corrigez leurs"
     " horaires."),
    ("in the last {count} day", "in the last {count} days",
     "sur le dernier jour", "sur les 2 derniers jours"),
    ("Hours expected and attended, {count} week", "Hours expected and attended, {count} weeks",
     "Heures attendues et réalisées, 1 semaine", "Heures attendues et réalisées, 2 semaines"),
    ("Hours expected and attended, the last {count} week",
     "Hours expected and attended, the last {count} weeks",
     "Heures attendues et effectuées, la dernière semaine",
     "Heures attendues et effectuées, les 2 dernières semaines"),
    ("out of {count} reader", "out of {count} readers", "sur 1 lecteur", "sur 2 lecteurs"),
    ("{count} token", "{count} tokens", "1 jeton", "2 jetons"),
    ("{count} account", "{count} accounts", "1 compte", "2 comptes"),
    ("{count} active", "{count} active", "1 actif", "2 actifs"),
    ("{count} slot checked", "{count} slots checked", "1 créneau vérifié", "2 créneaux vérifiés"),
    ("{count} absence noticed", "{count} absences noticed",
     "1 absence constatée", "2 absences constatées"),
    ("{count} school holiday period saved", "{count} school holiday periods saved",
     "1 période de vacances scolaires enregistrée",
     "2 périodes de vacances scolaires enregistrées"),
    ("{count} student created", "{count} students created", "1 créé", "2 créés"),
    ("{count} unchanged", "{count} unchanged", "1 inchangé", "2 inchangés"),
    ("{count} rejected", "{count} rejected", "1 refusé", "2 refusés"),
    ("missing column: {names}", "missing columns: {names}",
     "colonne manquante : {names}", "colonnes manquantes : {names}"),
    ("{count} row refused: fix it in the file and import it again. The other rows are fine.",
     "{count} rows refused: fix them in the file and import it again. The other rows are fine.",
     "1 ligne refusée : corrigez-la dans le fichier et importez-le de nouveau. Les autres lignes"
     " sont correctes.",
     "2 lignes refusées : corrigez-les dans le fichier et importez-le de nouveau. Les autres"
     " lignes sont correctes."),
    ("{count} badge of {student_id} revoked.", "{count} badges of {student_id} revoked.",
     "1 badge de {student_id} révoqué.", "2 badges de {student_id} révoqués."),
    ("{hours} to go, {count} slot left.", "{hours} to go, {count} slots left.",
     "Encore {hours}, il reste 1 créneau.", "Encore {hours}, il reste 2 créneaux."),
]  # fmt: skip


def _say(singular: str, plural: str, n: int, language: str) -> str:
    values = {"names": "{names}", "student_id": "{student_id}", "hours": "{hours}"}
    return ngettext(singular, plural, n, language=language, **values)


@pytest.mark.parametrize(("singular", "plural", "one", "two"), FAMILIES)
def test_french_zero_and_one_are_singular_two_is_plural(singular, plural, one, two) -> None:
    assert _say(singular, plural, 1, "fr") == one
    assert _say(singular, plural, 2, "fr") == two
    assert _say(singular, plural, 0, "fr") == one.replace("1", "0", 1) or "dernier" in one


@pytest.mark.parametrize(("singular", "plural", "one", "two"), FAMILIES)
def test_english_one_is_singular_zero_and_two_are_plural(singular, plural, one, two) -> None:
    values = {"names": "{names}", "student_id": "{student_id}", "hours": "{hours}"}
    assert _say(singular, plural, 1, "en") == singular.format(count=1, **values)
    assert _say(singular, plural, 0, "en") == plural.format(count=0, **values)
    assert _say(singular, plural, 2, "en") == plural.format(count=2, **values)


def test_every_family_here_is_in_the_french_catalogue() -> None:
    plurals = _plurals("fr")
    assert [f[0] for f in FAMILIES if f[0] not in plurals] == []
