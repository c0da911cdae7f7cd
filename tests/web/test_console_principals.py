"""The principals page offers no Deactivate the service would refuse: not for the last
active holder of an administrator role."""

import re

from console_support import csrf_of, sign_in, staff
from fastapi.testclient import TestClient

from tutela.api import create_app


def _deactivatable(html: str) -> set[str]:
    forms = re.findall(
        r'action="/console/principals/deactivate".*?name="name" value="([^"]+)"', html
    )
    return set(forms)


def test_the_last_administrator_is_offered_no_deactivate(env, key_for):
    staff(env, key_for, "claire", ["dpo"])
    staff(env, key_for, "mia", ["marketing"])
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        listing = client.get("/console/principals").text
        assert _deactivatable(listing) == {"admin", "claire", "mia"}  # two administrators
        client.post("/console/principals/deactivate",
                    data={"csrf": csrf_of(listing), "name": "admin"})  # fmt: skip
        after = client.get("/console/principals?lang=fr").text
        assert _deactivatable(after) == {"mia"}
        assert "dernier administrateur" in after
