"""The words around a breach's facts in the notification, the messages to the people and the
register, in English and French. They say what the GDPR's items are; they never decide."""

from __future__ import annotations

__all__ = ["number", "word"]

_WORDS: dict[str, tuple[str, str]] = {
    # The notification to the supervisory authority (Art. 33(3)).
    "notification": (
        "Notification of a personal data breach to the supervisory authority (GDPR Art. 33)",
        "Notification d'une violation de données personnelles à l'autorité de contrôle "
        "(RGPD art. 33)",
    ),
    "initial": ("Initial notification", "Notification initiale"),
    "follow_up": (
        "Follow-up notification no. {n} (Art. 33(4))",
        "Notification complémentaire n° {n} (art. 33.4)",
    ),
    "previous": ("Previous notifications", "Notifications précédentes"),
    "breach": ("Breach", "Violation"),
    "controller": ("Controller", "Responsable du traitement"),
    "dpo": ("Data protection officer", "Délégué à la protection des données"),
    "authority": ("Lead supervisory authority", "Autorité de contrôle chef de file"),
    "authorities": (
        "Supervisory authorities concerned (people concerned by country)",
        "Autorités de contrôle concernées (personnes concernées par pays)",
    ),
    "outside_eea": ("outside the EEA", "hors de l'EEE"),
    "unknown_country": ("country not known", "pays inconnu"),
    "aware_at": ("Became aware", "Prise de connaissance"),
    "deadline": (
        "Deadline to notify ({hours} hours)",
        "Date limite de notification ({hours} heures)",
    ),
    "delay": ("Reasons for the delay (Art. 33(1))", "Motifs du retard (art. 33.1)"),
    "delay_missing": (
        "REQUIRED: the deadline has passed; give the reasons for the delay",
        "OBLIGATOIRE : le délai est dépassé ; indiquez les motifs du retard",
    ),
    "nature": ("Nature of the breach (Art. 33(3)(a))", "Nature de la violation (art. 33.3.a)"),
    "description": ("Description", "Description"),
    "categories": (
        "Categories and approximate numbers of people and records concerned (Art. 33(3)(a))",
        "Catégories et nombre approximatif de personnes et d'enregistrements concernés "
        "(art. 33.3.a)",
    ),
    "category": ("Category", "Catégorie"),
    "people": ("People", "Personnes"),
    "records": ("Records", "Enregistrements"),
    "total": ("Total", "Total"),
    "encrypted_note": (
        "of whom {n} only as ciphertexts whose keys did not leak",
        "dont {n} uniquement sous forme chiffrée, sans fuite des clés",
    ),
    "dpo_contact": (
        "Data protection officer or other contact point (Art. 33(3)(b))",
        "Délégué à la protection des données ou autre point de contact (art. 33.3.b)",
    ),
    "consequences": (
        "Likely consequences (Art. 33(3)(c))",
        "Conséquences probables (art. 33.3.c)",
    ),
    "measures": (
        "Measures taken or proposed (Art. 33(3)(d))",
        "Mesures prises ou proposées (art. 33.3.d)",
    ),
    "not_given": ("not given yet", "non renseigné à ce stade"),
    "severity": ("Severity (ENISA method)", "Gravité (méthode ENISA)"),
    "people_told": ("The people concerned (Art. 34)", "Les personnes concernées (art. 34)"),
    # Natures of a breach, as the people read them.
    "confidentiality": ("confidentiality", "confidentialité"),
    "integrity": ("integrity", "intégrité"),
    "availability": ("availability", "disponibilité"),
    "plain_confidentiality": (
        "someone not authorised may have seen your data",
        "une personne non autorisée a pu voir vos données",
    ),
    "plain_integrity": ("your data may have been altered", "vos données ont pu être modifiées"),
    "plain_availability": (
        "your data was lost or could not be reached for a time",
        "vos données ont été perdues ou sont restées inaccessibles un temps",
    ),
    "low": ("low", "faible"),
    "medium": ("medium", "moyenne"),
    "high": ("high", "élevée"),
    "very_high": ("very high", "très élevée"),
    # The message to each person (Art. 34(2)).
    "m_topic": ("a personal data breach concerns you", "une violation de vos données personnelles"),
    "m_intro": (
        "We are writing to tell you of a breach of personal data that concerns you: {what}.",
        "Nous vous informons d'une violation de données personnelles qui vous concerne : {what}.",
    ),
    "m_data": ("Your data concerned", "Vos données concernées"),
    "m_consequences": ("What may follow", "Ce qui peut en découler"),
    "m_measures": ("What we have done", "Ce que nous avons fait"),
    "m_advice": ("What you can do", "Ce que vous pouvez faire"),
    "m_contact": (
        "For any question, write to our data protection officer, {name}: {email}.",
        "Pour toute question, écrivez à notre délégué à la protection des données, "
        "{name} : {email}.",
    ),
    "m_public": (
        "Public communication of a personal data breach (GDPR Art. 34(3)(c))",
        "Communication publique d'une violation de données personnelles (RGPD art. 34.3.c)",
    ),
    "m_public_intro": (
        "{controller} informs the people concerned of a breach of personal data: {what}. "
        "It concerns about {people} people.",
        "{controller} informe les personnes concernées d'une violation de données "
        "personnelles : {what}. Elle concerne environ {people} personnes.",
    ),
    # The reasons of the risk decision (Art. 33(1), 34).
    "r_ciphertexts_authority": (
        "only ciphertexts leaked and their keys did not: the data is unintelligible to whoever "
        "holds it, so the breach is unlikely to result in a risk (Art. 33(1)); it is recorded "
        "in the register (Art. 33(5))",
        "seuls des chiffrés ont fuité, sans leurs clés : les données sont inintelligibles pour "
        "qui les détient, la violation n'est donc pas susceptible d'engendrer un risque "
        "(art. 33.1) ; elle est consignée au registre (art. 33.5)",
    ),
    "r_notify": (
        "severity {level}, at or above {threshold}: the breach is likely to result in a risk; "
        "notify the supervisory authority within the deadline (Art. 33(1))",
        "gravité {level}, au moins {threshold} : la violation est susceptible d'engendrer un "
        "risque ; la notifier à l'autorité de contrôle dans le délai (art. 33.1)",
    ),
    "r_no_risk": (
        "severity {level}, below {threshold}: the breach is unlikely to result in a risk "
        "(Art. 33(1)); it is recorded in the register with this reason (Art. 33(5))",
        "gravité {level}, inférieure à {threshold} : la violation n'est pas susceptible "
        "d'engendrer un risque (art. 33.1) ; elle est consignée au registre avec ce motif "
        "(art. 33.5)",
    ),
    "r_no_high_risk": (
        "severity {level}, below {threshold}: no high risk to the people's rights and "
        "freedoms, so they need not be told (Art. 34(1))",
        "gravité {level}, inférieure à {threshold} : pas de risque élevé pour les droits et "
        "libertés des personnes, qui n'ont donc pas à être informées (art. 34.1)",
    ),
    "r_ciphertexts_people": (
        "severity {level}; only ciphertexts of theirs leaked and the keys did not: the data "
        "is unintelligible to anyone not authorised to read it, so the people need not be told "
        "(Art. 34(3)(a))",
        "gravité {level} ; seuls des chiffrés de leurs données ont fuité, sans les clés : "
        "elles sont inintelligibles pour toute personne non autorisée, les personnes n'ont donc "
        "pas à être informées (art. 34.3.a)",
    ),
    "r_tell": (
        "severity {level}, at or above {threshold}: a high risk to the people's rights and "
        "freedoms; tell the {people} people whose data leaked readable without undue delay "
        "(Art. 34(1))",
        "gravité {level}, au moins {threshold} : risque élevé pour les droits et libertés des "
        "personnes ; informer sans retard les {people} personnes dont les données ont fuité "
        "en clair (art. 34.1)",
    ),
    "r_tell_spared": (
        "severity {level}, at or above {threshold}: a high risk to the people's rights and "
        "freedoms; tell the {people} people whose data leaked readable without undue delay "
        "(Art. 34(1)); {spared} whose data leaked only encrypted, keys safe, need not be "
        "(Art. 34(3)(a))",
        "gravité {level}, au moins {threshold} : risque élevé pour les droits et libertés des "
        "personnes ; informer sans retard les {people} personnes dont les données ont fuité "
        "en clair (art. 34.1) ; les {spared} dont les données n'ont fuité que chiffrées, sans "
        "les clés, n'ont pas à l'être (art. 34.3.a)",
    ),
    # The register (Art. 33(5)).
    "register": (
        "Register of personal data breaches (GDPR Art. 33(5))",
        "Registre des violations de données personnelles (RGPD art. 33.5)",
    ),
    "status": ("Status", "Statut"),
    "facts": ("Facts", "Faits"),
    "effects": ("Effects", "Effets"),
    "remedial": ("Remedial action", "Mesures correctrices"),
    "notified": ("Notified to the authority", "Notifiée à l'autorité"),
    "why_not": ("Why not notified", "Motif de non-notification"),
    "told": ("People told", "Personnes informées"),
    "no": ("no", "non"),
    "colon": (": ", " : "),
    "s_open": ("open", "ouverte"),
    "s_assessed": ("assessed", "évaluée"),
    "s_notified": ("notified", "notifiée"),
    "s_people_told": ("people told", "personnes informées"),
    "s_closed": ("closed", "clôturée"),
    "individual": ("each person individually", "chaque personne individuellement"),
    "public": ("public communication", "communication publique"),
    "not_assessed": ("not assessed yet", "pas encore évaluée"),
    "pending": ("not yet: due by {deadline}", "pas encore : au plus tard le {deadline}"),
}


def word(key: str, lang: str, **values: object) -> str:
    english, french = _WORDS[key]
    text = french if lang == "fr" else english
    return text.format(**values) if values else text


def number(n: float, lang: str) -> str:
    """A number as its readers write it: 12,000 and 3.5 in English, 12 000 and 3,5 in French."""
    text = f"{n:,}"
    return text.replace(",", "\u202f").replace(".", ",") if lang == "fr" else text
