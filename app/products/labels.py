"""Translated names of product types, channels, evaluations, report and case states."""
from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from app.reference.service import spearhead_sectors
from app.products.models import (CaseStatus, Channel, CooperationType, Evaluation, ProductStatus, ProductType,
                                 ReportState)

TYPE_LABELS = {
    ProductType.article: _l("article"),
    ProductType.tv_report: _l("TV report"),
    ProductType.documentary: _l("documentary"),
    ProductType.photo_story: _l("photo story"),
    ProductType.podcast: _l("podcast"),
    ProductType.social_video: _l("social video"),
    ProductType.other: _l("other"),
}

CHANNEL_LABELS = {
    Channel.print: _l("print"),
    Channel.website: _l("website"),
    Channel.television: _l("television"),
    Channel.radio: _l("radio"),
    Channel.social_media: _l("social media"),
    Channel.podcast_platform: _l("podcast platform"),
    Channel.other: _l("other channel"),
}

COOPERATION_LABELS = {
    CooperationType.co_produced: _l("co-produced"),
    CooperationType.facilitated: _l("facilitated"),
    CooperationType.commissioned: _l("commissioned"),
}

EVALUATION_LABELS = {
    Evaluation.positive: _l("positive"),
    Evaluation.neutral: _l("neutral"),
    Evaluation.negative: _l("negative"),
}

EVALUATION_BADGES = {Evaluation.positive: "success", Evaluation.neutral: "secondary", Evaluation.negative: "danger"}

STATUS_LABELS = {
    ProductStatus.planned: _l("planned"),
    ProductStatus.in_production: _l("in production"),
    ProductStatus.published: _l("published"),
    ProductStatus.evaluated: _l("evaluated"),
}

REPORT_STATE_LABELS = {
    ReportState.reported: _l("reported, waiting for review"),
    ReportState.correction_requested: _l("correction requested"),
    ReportState.accepted: _l("accepted"),
}

CASE_STATUS_LABELS = {
    CaseStatus.detected: _l("detected"),
    CaseStatus.reported: _l("reported to the competent body"),
    CaseStatus.handled: _l("handled"),
}

AUDIT_LABELS = {
    "product.created": _l("Product recorded"),
    "product.updated": _l("Product changed"),
    "product.reported": _l("Product reported by the correspondent"),
    "product.report_corrected": _l("Reported product corrected"),
    "product.report_accepted": _l("Reported product accepted"),
    "product.correction_requested": _l("Correction of a reported product requested"),
    "product.evaluated": _l("Product evaluated"),
    "product.evidence_added": _l("Evidence added"),
    "product.evidence_removed": _l("Evidence removed"),
    "case.opened": _l("Sovereignty case opened"),
    "case.updated": _l("Sovereignty case updated"),
    "case.evidence_added": _l("Evidence added to a case"),
    "reminder.sent": _l("Post-visit report reminder sent"),
}

# Languages offered for products: those of the outlets the province works with most. Any
# ISO 639-1 code is accepted; these come first in the list.
COMMON_LANGUAGES = ("en", "vi", "ja", "ko", "zh", "fr", "de", "ru", "es", "th", "km", "lo", "id", "ms", "ar", "pt",
                    "it", "hi")


def language_name(code: str | None) -> str:
    if not code:
        return ""
    return Locale.parse(str(get_locale())).languages.get(code, code)


def sector_name(code: str | None) -> str:
    if not code:
        return ""
    locale = str(get_locale())
    for sector in spearhead_sectors(active_only=False):  # a deactivated sector keeps its name
        if sector["code"] == code:
            return sector.get(locale) or sector.get("en") or code
    return code
