"""A realistic demo population: clients and prospects over five years, French and English.

The mix is chosen so that every retention rule and every kind of rights request has cases:
active and former clients, recent and stale prospects, purchased records (not given by the
person), payments kept with and without consent, connection logs, deceased persons.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from faker import Faker

__all__ = ["demo_records"]

YEARS = 5
DEVICES = ("desktop", "mobile", "tablet")
LANGUAGES = ("fr-FR", "en-GB", "en-US", "fr-BE", "de-DE")
PLANS = ("wimi_teamwork", "wimi_armoured", "wimi_business")
SEGMENTS = ("smb", "enterprise", "public_sector", "freelance")


def _moment(rng: random.Random, day: date) -> str:
    at = datetime.combine(day, time(rng.randrange(7, 21), rng.randrange(60)), tzinfo=UTC)
    return at.isoformat().replace("+00:00", "Z")


def _between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange(max((end - start).days, 0) + 1))


def demo_records(count: int, *, seed: int = 0, today: date) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    fakers = {"FR": Faker("fr_FR"), "GB": Faker("en_GB")}
    for faker in fakers.values():
        faker.seed_instance(seed)
    start = today - timedelta(days=365 * YEARS)
    for n in range(count):
        country = "FR" if rng.random() < 0.7 else "GB"
        fake = fakers[country]
        first, last = fake.first_name(), fake.last_name()
        first_contact = _between(rng, start, today)
        is_client = rng.random() < 0.45
        source = rng.choices(
            ["registration_form", "website_contact", "market_research", "purchased_database"],
            weights=[45, 30, 10, 15],
        )[0]
        if is_client:
            source = "registration_form"
        last_contact = _between(rng, first_contact, today)
        record: dict[str, Any] = {
            "external_id": f"demo-{seed}-{n:07d}",
            "kind": "client" if is_client else "prospect",
            "source": source,
            "collected_at": _moment(rng, first_contact),
            "identification": {
                "first_name": first,
                "last_name": last,
                "email": f"{first}.{last}.{n}@{fake.free_email_domain()}".lower().replace(" ", ""),
                "phone": fake.phone_number(),
                "country": country,
            },
            "lifecycle": {
                "first_contact_at": first_contact.isoformat(),
                "last_contact_at": last_contact.isoformat(),
            },
            "consents": [],
            "connections": [],
            "payments": [],
        }
        if rng.random() < 0.3:
            record["identification"]["company"] = fake.company()
        if rng.random() < 0.4:
            record["consents"].append(
                {
                    "purpose": "newsletter",
                    "given_at": _moment(rng, first_contact),
                    "channel": "web_form",
                }
            )
        if rng.random() < 0.25:
            record["consents"].append(
                {
                    "purpose": "profiling",
                    "given_at": _moment(rng, first_contact),
                    "channel": "web_form",
                }
            )
        if source in ("market_research", "purchased_database") or rng.random() < 0.3:
            record["enriched"] = {"segment": rng.choice(SEGMENTS), "score": round(rng.random(), 2)}
        last_seen = first_contact
        if is_client:
            started = first_contact
            ended = _between(rng, started, today) if rng.random() < 0.35 else None
            last_seen = ended or _between(rng, max(started, today - timedelta(days=400)), today)
            record["lifecycle"]["subscription_started_at"] = started.isoformat()
            record["lifecycle"]["subscription_ended_at"] = ended.isoformat() if ended else None
            record["contract"] = {
                "plan": rng.choice(PLANS),
                "contract_reference": f"CTR-{started.year}-{n:07d}",
                "signed_at": started.isoformat(),
            }
            for _ in range(rng.randrange(1, 4)):
                method = rng.choice(("card", "card", "sepa_debit"))
                payment: dict[str, Any] = {
                    "at": _moment(rng, _between(rng, started, ended or today)),
                    "method": method,
                    "amount": round(rng.uniform(5, 500), 2),
                    "retain_consent": rng.random() < 0.3,
                }
                if method == "card":
                    payment["card_last4"] = f"{rng.randrange(10000):04d}"
                else:
                    payment["iban"] = fake.iban()
                record["payments"].append(payment)
        if rng.random() < 0.7:
            for _ in range(rng.randrange(1, 6)):
                record["connections"].append(
                    {
                        "at": _moment(rng, _between(rng, first_contact, last_seen)),
                        "ip": fake.ipv4_public() if rng.random() < 0.8 else fake.ipv6(),
                        "device": rng.choice(DEVICES),
                        "browser_language": rng.choice(LANGUAGES),
                    }
                )
            record["cookies"] = {"cookie_id": fake.uuid4(), "set_at": last_seen.isoformat()}
        if rng.random() < 0.01:
            record["lifecycle"]["date_of_death"] = _between(rng, last_contact, today).isoformat()
        yield record
