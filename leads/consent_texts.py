"""The consent wording patients agree to. Change the text, change the version:
stored consents keep the exact words and version that were shown."""

from leads.models import ConsentPurpose

CONSENT_TEXTS: dict[str, tuple[str, str]] = {
    ConsentPurpose.CONTACT: (
        "contact-v1",
        "I agree that the clinic may store my contact details and what I told it here, "
        "and contact me by e-mail or phone about my enquiry.",
    ),
    ConsentPurpose.MARKETING: (
        "marketing-v1",
        "I would like to receive news and offers from the clinic. I can unsubscribe at any time.",
    ),
    ConsentPurpose.PHOTO_ANALYSIS: (
        "photo-v1",
        "I agree that the clinic may analyse my photo (biometric data) to suggest treatments. "
        "The photo is deleted after the analysis unless I ask the clinic to keep it.",
    ),
}


def consent_text(purpose: str) -> tuple[str, str]:
    """(version, text) currently shown for a purpose."""
    return CONSENT_TEXTS[purpose]
