"""What a person sees of a markdown source Streamlit renders, for checking that text from data
stays text."""
from __future__ import annotations

import re
from pathlib import Path

_ESCAPE = re.compile(r"\\(.)")
# Streamlit's markdown (remark-gfm, its icon and emoji plugins) reads these after resolving the
# escapes, so a backslash does not stop them: web and e-mail addresses become links, `:name:`
# an emoji, `:material/name:` an icon. JavaScript's \w is ASCII, hence re.ASCII.
_LIVE_IN_TEXT = re.compile(r"(?:https?://|www\.)[-\w]|[-.\w+]@[-\w]+\.[-\w]|:[\w+-]+:|:material/", re.ASCII | re.I)

# Streamlit's coloured text and badges, `:red[...]`, unless the colon or the bracket is escaped.
_DIRECTIVE = re.compile(r"(?<!\\):[\w-]+(?<!\\)\[")


def as_shown(source: str) -> str:
    """The text a markdown source shows: escapes resolved, invisible word joiners dropped."""
    return _ESCAPE.sub(r"\1", source).replace("\u2060", "")


def live_markup(source: str) -> list[str]:
    """Pieces of a markdown source that would render as a link, an icon or an emoji."""
    resolved = _ESCAPE.sub(r"\1", source)
    return ([match.group(0) for match in _LIVE_IN_TEXT.finditer(resolved)]
            + [":material/"] * (":material/" in source) + _DIRECTIVE.findall(source))


# A customer and a campaign whose names hold what markdown would turn into links, icons, emoji
# and coloured badges.
HOSTILE_NAME = "Ali www.evil.example ali@evil.example :material/warning: :smile:"
HOSTILE_CAMPAIGN = ":red[Kampanya] https://evil.example/login :blue-badge[VIP]"
HOSTILE_CUSTOMER_ID = 1_000_001


def hostile_company(directory: Path) -> tuple[Path, Path]:
    """A loaded database with that customer, and a campaign store with that campaign on them."""
    from datetime import date

    from crm360.campaigns import CampaignStore, NewCampaign
    from tests.conftest import load_dir
    from tests.rawfiles import write_raw

    raw = write_raw(directory / "raw", customers=[{"customer_id": HOSTILE_CUSTOMER_ID, "full_name": HOSTILE_NAME}],
                    purchases=[{"order_id": 1, "customer_id": HOSTILE_CUSTOMER_ID}])
    db, _ = load_dir(raw, directory)
    db.close()
    campaigns = directory / "campaigns.sqlite"
    CampaignStore(campaigns).create(NewCampaign(HOSTILE_CAMPAIGN, "Deniz", "phone", date(2026, 7, 15), control_share=0),
                                    [(HOSTILE_CUSTOMER_ID, "birthday")])
    return directory / "db" / "crm.duckdb", campaigns
