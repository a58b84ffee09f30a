"""The repository's Streamlit settings: the server keeps to this machine, reports nothing to
anyone, offers no developer menu, shows no error details and lists no page files by itself."""
import tomllib
from pathlib import Path

from streamlit import config

SETTINGS = Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml"


def _settings() -> dict[str, object]:
    return {f"{section}.{key}": value
            for section, values in tomllib.loads(SETTINGS.read_text(encoding="utf-8")).items()
            for key, value in values.items()}


def test_every_setting_is_one_streamlit_knows():  # a misspelt option is ignored with a warning only
    assert set(_settings()) <= set(config.get_config_options())


def test_the_settings_keep_the_app_on_this_machine_quiet_and_plain():
    assert _settings().items() >= {
        "server.address": "localhost",  # a call centre's network: STREAMLIT_SERVER_ADDRESS (README)
        "browser.gatherUsageStats": False,
        "client.toolbarMode": "minimal",  # no Deploy button, no developer options, no menu
        "client.showErrorDetails": "none",
        "client.showErrorLinks": False,
        "client.showSidebarNavigation": False,  # dashboard.py draws the role's page links
        "server.fileWatcherType": "none",  # an ETL run's files must not flood the log that holds incidents
    }.items()


def test_the_theme_keeps_red_for_danger_only():
    """Selection, focus, active tabs and primary buttons take primaryColor: Streamlit's default is
    red, which would make every selected tab look like an alarm beside the real alerts."""
    settings = _settings()
    colour = settings["theme.primaryColor"].lstrip("#")
    red, green, blue = (int(colour[i:i + 2], 16) for i in (0, 2, 4))
    assert red < max(green, blue), settings["theme.primaryColor"]
    assert settings["theme.base"] == "light"
