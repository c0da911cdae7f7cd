"""The words around the policy's own texts in registers and notices, in English and French:
headings, legal bases, lifecycle dates, periods. The policy gives what is specific to the
company; these say what the GDPR's terms and Tutela's fields mean, and never decide."""

from __future__ import annotations

__all__ = ["LANGUAGES", "anchor_after", "anchor_at", "legal_basis", "period", "word"]

LANGUAGES = ("en", "fr")

_WORDS: dict[str, tuple[str, str]] = {
    "register": (
        "Register of processing activities (GDPR Art. 30(1))",
        "Registre des activités de traitement (RGPD art. 30.1)",
    ),
    "policy_version": ("Policy version", "Version de la politique"),
    "activity": ("Activity", "Activité"),
    "reference": ("Reference", "Référence"),
    "created": ("Created", "Date de création"),
    "updated": ("Updated", "Mise à jour"),
    "controller": ("Controller", "Responsable du traitement"),
    "representative": ("Representative", "Représentant"),
    "dpo": ("Data protection officer", "Délégué à la protection des données"),
    "purpose": ("Purpose", "Finalité principale"),
    "sub_purposes": ("Sub-purposes", "Sous-finalités"),
    "legal_basis": ("Legal basis", "Base légale"),
    "legitimate_interest": ("Legitimate interest pursued", "Intérêt légitime poursuivi"),
    "balancing_test": ("Balancing test", "Mise en balance des intérêts"),
    "categories": (
        "Categories of data and erasure time limits",
        "Catégories de données et délais d'effacement",
    ),
    "sensitive": ("Sensitive data", "Données sensibles"),
    "subjects": ("Categories of people", "Catégories de personnes concernées"),
    "sources": (
        "Sources of data not collected from the person",
        "Sources des données non collectées auprès de la personne",
    ),
    "recipients": ("Recipients", "Destinataires"),
    "internal": ("internal", "interne"),
    "external": ("external", "externe"),
    "subprocessors": ("Subprocessors", "Sous-traitants"),
    "transfers": ("Transfers outside the EEA", "Transferts hors de l'EEE"),
    "security": ("Security measures", "Mesures de sécurité"),
    "profiling": ("Profiling and automated decisions", "Profilage et décisions automatisées"),
    "dpia": ("Impact assessment (DPIA)", "Analyse d'impact (AIPD)"),
    "none": ("None", "Aucun"),
    "none_f": ("None", "Aucune"),
    "no_representative": (
        "None: the controller is established in the Union",
        "Aucun : le responsable est établi dans l'Union",
    ),
    "no_transfer": (
        "None: no data leaves the European Economic Area",
        "Aucun : aucune donnée ne quitte l'Espace économique européen",
    ),
    "no_sensitive": (
        "None: no special category of data (Art. 9, 10)",
        "Aucune : aucune catégorie particulière de données (art. 9, 10)",
    ),
    "no_limit": (
        "no erasure time limit in the policy",
        "aucun délai d'effacement dans la politique",
    ),
    "profiling_yes": ("Profiling", "Profilage"),
    "profiling_no": ("No profiling", "Pas de profilage"),
    "automated_yes": (
        "decisions with legal or similar effects taken by automated means alone",
        "décisions produisant des effets juridiques ou similaires prises de façon entièrement automatisée",
    ),
    "automated_no": (
        "no decision based solely on automated processing (Art. 22)",
        "aucune décision fondée exclusivement sur un traitement automatisé (art. 22)",
    ),
    "dpia_required": ("Required", "Requise"),
    "dpia_not_required": ("Not required", "Non requise"),
    "dpia_unassessed": ("Not assessed in the policy", "Non évaluée dans la politique"),
    "contract": ("Art. 28 contract", "Contrat art. 28"),
    "audited": ("last audited", "dernier audit"),
    "not_recorded": ("not recorded", "non renseigné"),
    "then_delete": ("then deleted", "puis suppression"),
    "then_anonymise": ("then anonymised", "puis anonymisation"),
    "archived_at": ("moved to the intermediate archive", "placement en archive intermédiaire"),
    "kept_archive": ("kept there", "conservation"),
    "in_archive": (
        "then kept in the intermediate archive",
        "puis conservation en archive intermédiaire",
    ),
    "unless_retain_consent": (
        "unless the person agreed to keep them",
        "sauf accord de la personne pour leur conservation",
    ),
    "colon": (": ", " : "),
    "months": ("months", "mois"),
    # The privacy notice (Art. 12-14).
    "n_title": (
        "How we process your personal data",
        "Comment nous traitons vos données personnelles",
    ),
    "n_for": ("For", "Pour"),
    "n_version": (
        "This notice follows our data protection policy, version",
        "Cette information suit notre politique de protection des données, version",
    ),
    "n_who": ("Who is responsible", "Qui est responsable"),
    "n_controller": (
        "The controller of your data is",
        "Le responsable du traitement de vos données est",
    ),
    "n_dpo": (
        "Our data protection officer answers every question about your data",
        "Notre délégué à la protection des données répond à toute question sur vos données",
    ),
    "n_why": (
        "Why we use your data, and on what basis",
        "Pourquoi nous utilisons vos données, et sur quelle base",
    ),
    "n_interest": ("our legitimate interest", "notre intérêt légitime"),
    "n_data": ("What data we hold", "Quelles données nous détenons"),
    "n_enriched": (
        "Data we derive ourselves (§18) remains the business's property; it is never given to you by portability",
        "Les données que nous produisons nous-mêmes (§18) restent la propriété de l'entreprise ; elles ne sont jamais portées",
    ),
    "n_sources": (
        "Where data not collected from you comes from",
        "D'où viennent les données qui ne sont pas collectées auprès de vous",
    ),
    "n_told": ("You are told", "Vous en êtes informé"),
    "n_recipients": ("Who receives your data", "Qui reçoit vos données"),
    "n_internal": (
        "Within the business, only the authorised staff of",
        "Dans l'entreprise, seul le personnel habilité de",
    ),
    "n_external": ("Outside the business", "Hors de l'entreprise"),
    "n_processors": (
        "Our subprocessors, bound by a contract under GDPR Art. 28",
        "Nos sous-traitants, liés par un contrat conforme à l'art. 28 du RGPD",
    ),
    "n_confidential": (
        "All of them are bound to confidentiality, and every access to your data is recorded.",
        "Tous sont tenus à la confidentialité, et chaque accès à vos données est enregistré.",
    ),
    "n_transfers": (
        "Transfers outside the European Economic Area",
        "Transferts hors de l'Espace économique européen",
    ),
    "n_no_transfer": (
        "Your data does not leave the European Economic Area.",
        "Vos données ne quittent pas l'Espace économique européen.",
    ),
    "n_kept": ("How long we keep them", "Combien de temps nous les conservons"),
    "n_kept_then": (
        "Once these periods are over, the data is deleted or kept anonymously, for statistics only; this cannot be undone.",
        "Passés ces délais, les données sont supprimées ou conservées de façon anonyme, pour des statistiques seulement ; c'est irréversible.",
    ),
    "n_profiling": ("Profiling and automated decisions", "Profilage et décisions automatisées"),
    "n_profiling_yes": ("We use profiling for", "Nous utilisons le profilage pour"),
    "n_no_automated": (
        "No decision with legal or similarly significant effects is taken about you by automated means alone.",
        "Aucune décision produisant des effets juridiques ou vous affectant de manière significative n'est prise à votre égard de façon entièrement automatisée.",
    ),
    "n_rights": ("Your rights", "Vos droits"),
    "n_exercise": ("To exercise a right, write to", "Pour exercer un droit, écrivez à"),
    "n_or": ("or", "ou"),
    "n_proof": ("with", "avec"),
    "n_consent": ("Withdrawing your consent", "Retirer votre consentement"),
    "n_consent_any_time": (
        "You may withdraw a consent at any time, as easily as you gave it; what was done before stays lawful.",
        "Vous pouvez retirer un consentement à tout moment, aussi simplement que vous l'avez donné ; ce qui a été fait avant reste licite.",
    ),
    "n_complaint": (
        "Complaining to the supervisory authority",
        "Réclamation auprès de l'autorité de contrôle",
    ),
    "n_complaint_text": (
        "If you believe the processing of your data does not comply with the law, you may lodge a complaint with",
        "Si vous estimez que le traitement de vos données n'est pas conforme à la loi, vous pouvez introduire une réclamation auprès de",
    ),
    "n_forms": ("What our forms require", "Ce que nos formulaires exigent"),
    "n_mandatory": (
        "Fields marked with an asterisk (*) are mandatory.",
        "Les champs marqués d'un astérisque (*) sont obligatoires.",
    ),
    "n_if_missing": ("If one is left empty", "Si l'un d'eux est laissé vide"),
    # The message telling people of a new purpose (Art. 13(3)).
    "m_topic": ("a new use of your personal data", "un nouvel usage de vos données personnelles"),
    "m_new_purpose": (
        "We are starting to use your personal data for a new purpose:",
        "Nous commençons à utiliser vos données personnelles pour une nouvelle finalité :",
    ),
    "m_rights": (
        "You may object, withdraw your consent or exercise your other rights by writing to",
        "Vous pouvez vous y opposer, retirer votre consentement ou exercer vos autres droits en écrivant à",
    ),
}

_BASES: dict[str, tuple[str, tuple[str, str]]] = {
    "consent": ("Art. 6(1)(a)", ("Consent", "Consentement")),
    "contract": ("Art. 6(1)(b)", ("Performance of a contract", "Exécution d'un contrat")),
    "legal_obligation": ("Art. 6(1)(c)", ("Legal obligation", "Obligation légale")),
    "vital_interests": ("Art. 6(1)(d)", ("Vital interests", "Intérêts vitaux")),
    "public_task": ("Art. 6(1)(e)", ("Public interest task", "Mission d'intérêt public")),
    "legitimate_interests": ("Art. 6(1)(f)", ("Legitimate interests", "Intérêts légitimes")),
}

# Each lifecycle date, after which and at which a period runs.
_ANCHORS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "first_contact_at": (
        ("after the first contact", "après le premier contact"),
        ("at the first contact", "au premier contact"),
    ),
    "last_contact_at": (
        ("after the last contact made by the {kind}", "après le dernier contact du {kind}"),
        ("at the last contact made by the {kind}", "au dernier contact du {kind}"),
    ),
    "subscription_started_at": (
        ("after the start of the subscription", "après le début de l'abonnement"),
        ("when the subscription starts", "au début de l'abonnement"),
    ),
    "subscription_ended_at": (
        ("after the end of the subscription", "après la fin de l'abonnement"),
        ("when the subscription ends", "à la fin de l'abonnement"),
    ),
    "last_connection_at": (
        ("after the last connection", "après la dernière connexion"),
        ("at the last connection", "à la dernière connexion"),
    ),
    "last_transaction_at": (
        ("after the last transaction", "après la dernière transaction"),
        ("at the last transaction", "à la dernière transaction"),
    ),
    "collected_at": (("after collection", "après la collecte"), ("at collection", "à la collecte")),
    "date_of_death": (("after death", "après le décès"), ("at death", "au décès")),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[LANGUAGES.index(lang)]


def word(key: str, lang: str) -> str:
    return _pick(_WORDS[key], lang)


def legal_basis(basis: str, lang: str) -> tuple[str, str]:
    """(article, words) of a legal basis."""
    article, words = _BASES[basis]
    return (article if lang == "en" else article.replace("Art.", "art.")), _pick(words, lang)


def anchor_after(anchor: str, lang: str, kind: str) -> str:
    return _pick(_ANCHORS[anchor][0], lang).format(kind=kind)


def anchor_at(anchor: str, lang: str, kind: str) -> str:
    return _pick(_ANCHORS[anchor][1], lang).format(kind=kind)


def period(months: int, lang: str) -> str:
    """A number of months in words: whole years as years ("3 years", "1 an")."""
    if months and months % 12 == 0:
        years = months // 12
        if lang == "fr":
            return f"{years} an" if years == 1 else f"{years} ans"
        return f"{years} year" if years == 1 else f"{years} years"
    if lang == "fr":
        return f"{months} mois"
    return f"{months} month" if months == 1 else f"{months} months"
