"""The privacy notice (RGPD art. 13): filled from the configuration, at /confidentialite
without logging in, in French by default and in English, and printed by the command."""

from __future__ import annotations

import html
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from server.config import PrivacySettings
from server.i18n import set_language
from server.privacy_notice import as_text


def test_the_notice_page_needs_no_login_and_says_what_the_configuration_says(world) -> None:
    page = world.app.test_client().get("/confidentialite")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert "Responsable du traitement" in text and "Vos droits" in text
    assert "400 jours" in text  # the configured retention of taps
    assert "[à compléter : [privacy] controller]" in text  # not configured in these tests
    assert "CNIL" in text
    english = html.unescape(world.app.test_client().get("/confidentialite?lang=en").get_data(True))
    assert "Who is responsible" in english and "400 days" in english


def test_the_notice_is_filled_from_the_privacy_section(world) -> None:
    settings = replace(
        world.settings,
        privacy=PrivacySettings(
            controller="Mairie de Saint-Exemple",
            address="1 place de la Mairie, 00000 Saint-Exemple",
            contact="dpo@saint-exemple.fr",
            dpo="M. Délégué, dpo@saint-exemple.fr",
        ),
        events=replace(world.settings.events, retention_days=1),
    )
    set_language("fr")
    text = as_text(settings)
    assert "Mairie de Saint-Exemple, 1 place de la Mairie" in text
    assert "en écrivant à dpo@saint-exemple.fr" in text
    assert " 1 jour, puis effacés" in text  # singular
    assert "à compléter" not in text


def test_the_command_prints_the_notice_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "campus.toml"
    config.write_text(
        '[server]\ndata_dir = "' + str(tmp_path) + '"\n'
        '[privacy]\ncontroller = "Communauté de communes du Val"\ncontact = "rgpd@val.fr"\n'
        "[events]\nretention_days = 90\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "server.entrypoints.cli", "--config", str(config), "privacy-notice"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Communauté de communes du Val" in result.stdout
    assert "rgpd@val.fr" in result.stdout and "90 jours" in result.stdout
