"""Forms of the products area: the staff record, the correspondent's report, evaluation, cases, filters."""
from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (DateField, Field, SelectChoice, SelectField, SelectMultipleField, StringField, SubmitField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from app.countries import collation_key
from app.countries import country_choices as countries_named_in
from app.reference.service import spearhead_sectors
from app.forms import Form, QuickSelect, VersionField
from app.i18n import day
from app.outlets.forms import country_choices, enum_choices
from app.products.labels import (CASE_STATUS_LABELS, CHANNEL_LABELS, COMMON_LANGUAGES, COOPERATION_LABELS,
                                 EVALUATION_LABELS, STATUS_LABELS, TYPE_LABELS)
from app.products.models import CaseStatus, Channel, CooperationType, Evaluation, ProductStatus, ProductType

SHORT_TEXT = 300
LONG_TEXT = 10_000
EARLIEST_DATE = date(1990, 1, 1)
# 10^15 VND (about 40 billion USD) and 10^12 people reached: beyond that it is a typing mistake.
MAX_VND = 10 ** 15
MAX_REACH = 10 ** 12


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ChoiceListField(MultiCheckboxField):
    """Many choices among hundreds (countries, languages), shown as checkboxes in a scrollable,
    labelled box: the likely ones first under "Likely", then all others alphabetically
    (templates/products/_publication_fields.html; app/static/js/choice-filter.js adds a filter box).
    It submits what a multiple select submits: the field's name once per chosen code."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.likely: tuple[str, ...] = ()  # codes, in the order shown
        self.search_text: dict[str, str] = {}  # code -> its names in every language, for the filter

    def set_choices(self, named: dict[str, str], likely, search_text: dict[str, str]) -> None:
        """`named`: code -> name in the page's language. The likely codes first (those that
        exist, without repeats), then every other code by name as the reader looks it up."""
        self.likely = tuple(dict.fromkeys(code for code in likely if code in named))
        others = sorted((code for code in named if code not in self.likely),
                        key=lambda code: (*collation_key(named[code]), code))
        self.choices = [SelectChoice(code, named[code]) for code in (*self.likely, *others)]
        self.search_text = search_text


class WholeNumberField(Field):
    """A non-negative whole number typed the way people type money: "50.000.000", "50 000 000 đ".

    Separators (dots, commas, spaces) and a currency word are dropped; anything else
    (a minus sign, letters, a decimal part) is refused with a message.
    """

    widget = TextInput()

    def __init__(self, label=None, validators=None, maximum: int = MAX_VND, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.maximum = maximum
        self.data = None

    def _value(self):
        return self.raw_data[0] if self.raw_data else ("" if self.data is None else str(self.data))

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not valuelist[0].strip():
            return
        text = re.sub(r"(?i)\s*(vnd|vnđ|đồng|đ)\s*$", "", valuelist[0].strip())
        if text.startswith("-"):
            raise ValueError(self.gettext("Enter a number that is zero or more."))
        digits = re.sub(r"[\s.,\u00a0\u202f]", "", text)
        if not (digits.isascii() and digits.isdigit()):
            raise ValueError(self.gettext("Enter a whole number, for example 50.000.000."))
        value = int(digits)
        if value > self.maximum:
            raise ValueError(self.gettext("This number is too large; check it."))
        self.data = value


def _http_url(form, field) -> None:
    value = (field.data or "").strip()
    if not value:
        return
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for port 99999 or "abc")
    except ValueError:  # "http://[::1/a", a port out of range or not a number
        raise ValidationError(_l("This web address is not valid: check the part after “//” (the site's name "
                                 "and port).")) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "." not in parts.hostname:
        raise ValidationError(_l("Enter a full web address starting with http:// or https://."))
    if any(character.isspace() for character in value):
        raise ValidationError(_l("A web address cannot contain spaces."))


def _sane_date(form, field) -> None:
    if field.data is not None and field.data < EARLIEST_DATE:
        raise ValidationError(_l("Check the year of this date."))


def language_choices() -> list[SelectChoice]:
    """Common languages first, then every other ISO 639-1 language, named in the user's language."""
    names = Locale.parse(str(get_locale())).languages
    common = [SelectChoice(code, names.get(code, code)) for code in COMMON_LANGUAGES]
    others = sorted(((code, name) for code, name in names.items()
                     if len(code) == 2 and code.isalpha() and code not in COMMON_LANGUAGES), key=lambda item: item[1])
    return common + [SelectChoice(code, name) for code, name in others]


# How many of the codes most used in earlier products join the likely ones.
LIKELY_FROM_EARLIER_PRODUCTS = 5
VIETNAM, VIETNAMESE, ENGLISH = "VN", "vi", "en"
NAME_LANGUAGES = ("vi", "en")  # the filter finds a code by its name in either language of the app


def _language_names(locale: str) -> dict[str, str]:
    names = Locale.parse(locale).languages
    return {code: name for code, name in names.items() if len(code) == 2 and code.isalpha()}


def _outlet_language(outlet) -> str | None:
    """The first official language of the outlet's country (Babel/CLDR), as a two-letter code."""
    from babel.languages import get_official_languages

    if outlet is None or not outlet.country:
        return None
    for code in get_official_languages(outlet.country, de_facto=True):
        base = code.split("_")[0]
        if len(base) == 2:
            return base
    return None


def most_used_codes(table, outlet_id: int | None, limit: int = LIKELY_FROM_EARLIER_PRODUCTS) -> list[str]:
    """The codes (languages or countries) most used in earlier products of the outlet, or of all
    products when there is no outlet (the staff form), most used first."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.products.models import Product

    query = sa.select(table.c.code).join(Product, Product.id == table.c.product_id)
    if outlet_id is not None:
        query = query.where(Product.outlet_id == outlet_id)
    query = query.group_by(table.c.code).order_by(sa.func.count().desc(), table.c.code).limit(limit)
    return list(db.session.scalars(query))


def likely_languages(outlet=None) -> list[str]:
    """The outlet's language, Vietnamese, English, then the most used in its earlier products."""
    from app.products.models import product_languages

    return [code for code in (_outlet_language(outlet), VIETNAMESE, ENGLISH,
                              *most_used_codes(product_languages, outlet.id if outlet else None)) if code]


def likely_countries(outlet=None) -> list[str]:
    """The outlet's country, Vietnam, then the most targeted in its earlier products."""
    from app.products.models import product_countries

    return [code for code in (outlet.country if outlet else None, VIETNAM,
                              *most_used_codes(product_countries, outlet.id if outlet else None)) if code]


def sector_choices(*, active_only: bool = True, keep=()) -> list[SelectChoice]:
    """The spearhead sectors to offer (app/reference): the active ones, plus the deactivated ones
    whose codes are in `keep` (a product being edited keeps its old tags); all with active_only=False."""
    locale = str(get_locale())
    return [SelectChoice(sector["code"], sector.get(locale) or sector["en"])
            for sector in spearhead_sectors(active_only=False)
            if sector["active"] or not active_only or sector["code"] in keep]


class PublicationFields(Form):
    """What both staff and correspondents say about a publication."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=SHORT_TEXT)],
                        description=_l("In English or Vietnamese."))
    original_title = StringField(_l("Title in the original language"), validators=[Optional(), Length(max=SHORT_TEXT)])
    type = SelectField(_l("Type"), validators=[DataRequired()])
    channel = SelectField(_l("Channel"), validators=[DataRequired()])
    channel_name = StringField(_l("Name of the channel or programme"), validators=[Optional(), Length(max=200)],
                               description=_l("For example: NHK World-Japan, the Sunday supplement."))
    publication_date = DateField(_l("Publication date"), validators=[Optional(), _sane_date])
    url = StringField(_l("Web address (URL)"), validators=[Optional(), Length(max=2000), _http_url])
    languages = ChoiceListField(_l("Languages"), validators=[Optional()],
                                description=_l("Tick every language it was published in."))
    countries = ChoiceListField(_l("Target countries"), validators=[Optional()],
                                description=_l("Tick every country it was meant for."))
    reach = WholeNumberField(_l("Reach"), maximum=MAX_REACH,
                             description=_l("Readers, viewers or listeners, as the outlet counts them."))
    reach_note = StringField(_l("What the reach counts"), validators=[Optional(), Length(max=SHORT_TEXT)],
                             description=_l("For example: page views in the first month, print run."))
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=LONG_TEXT)])

    def fill_choices(self, outlet=None) -> None:
        """`outlet`: whose earlier products say which languages and countries are likely
        (None: all products')."""
        self.type.choices = enum_choices(ProductType, TYPE_LABELS)
        self.channel.choices = enum_choices(Channel, CHANNEL_LABELS)
        locale = str(get_locale())
        self.languages.set_choices(
            _language_names(locale), likely_languages(outlet),
            _search_text(lambda language: _language_names(language)))
        self.countries.set_choices(
            dict(countries_named_in(locale)), likely_countries(outlet),
            _search_text(lambda language: dict(countries_named_in(language))))


class ProductForm(PublicationFields):
    """The staff record of a product."""

    outlet_id = SelectField(_l("Outlet"), coerce=int, validators=[DataRequired()])
    registration_reference = StringField(_l("Registration reference"), validators=[Optional(), Length(max=20)],
                                         description=_l("The visit the product came out of, e.g. PD-2026-00042. "
                                                        "Leave empty when it is not linked to a visit."))
    cooperation_type = SelectField(_l("Cooperation"), validators=[DataRequired()])
    status = SelectField(_l("Status"), validators=[DataRequired()])
    sectors = MultiCheckboxField(_l("Spearhead sectors"), validators=[Optional()])
    contribution_vnd = WholeNumberField(_l("Province contribution (VND)"),
                                        description=_l("Money the province spent on the product, in đồng."))
    evidence = FileField(_l("Evidence file (optional)"),
                         description=_l("A screenshot or a PDF archive of the publication."))
    version = VersionField()
    submit = SubmitField(_l("Save the product"))

    def fill_choices(self, outlets) -> None:
        super().fill_choices()
        self.outlet_id.choices = [SelectChoice(outlet.id, f"{outlet.name} ({outlet.country})") for outlet in outlets]
        self.cooperation_type.choices = enum_choices(CooperationType, COOPERATION_LABELS)
        self.status.choices = [choice for choice in enum_choices(ProductStatus, STATUS_LABELS)
                               if choice.value != ProductStatus.evaluated.name]
        self.sectors.choices = sector_choices()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        from app.clock import local_today

        field = self.publication_date
        published = self.status.data in (ProductStatus.published.name, ProductStatus.evaluated.name)
        if field.errors or not published:
            return valid
        if field.data is None:
            field.errors = [*field.errors, _l("A published product needs its publication date.")]
        elif field.data > local_today():
            field.errors = [*field.errors, _l("A published product cannot have a publication date in the future.")]
        return valid and not field.errors


def _search_text(names_in) -> dict[str, str]:
    """code -> its names in the app's languages, for the filter (typing "Japan" on a Vietnamese page)."""
    found: dict[str, list[str]] = {}
    for language in NAME_LANGUAGES:
        for code, name in names_in(language).items():
            found.setdefault(code, []).append(name)
    return {code: " ".join(dict.fromkeys(names)) for code, names in found.items()}


class ReportForm(PublicationFields):
    """The correspondent's report of one publication after the visit."""

    evidence = FileField(_l("Screenshot or PDF of the publication (optional)"))
    version = VersionField()
    submit = SubmitField(_l("Report this publication"))

    def __init__(self, *args, registration=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.registration = registration

    def fill_choices(self, outlet=None) -> None:
        """The likely languages and countries are the reporting outlet's."""
        if outlet is None and self.registration is not None:
            outlet = self.registration.outlet
        super().fill_choices(outlet)

    def validate(self, extra_validators=None) -> bool:
        """The report needs what the province counts: the link, the date and the language."""
        valid = super().validate(extra_validators)
        from app.clock import local_today

        def problem(field, message) -> None:
            if not field.errors:
                field.errors = [*field.errors, message]

        if not (self.url.data or "").strip():
            problem(self.url, _l("Give the web address of the publication."))
        published = self.publication_date.data
        if published is None:
            problem(self.publication_date, _l("Give the date it was published or broadcast."))
        elif published > local_today():
            problem(self.publication_date, _l("The publication date cannot be in the future."))
        elif self.registration is not None and self.registration.start_date and \
                published < self.registration.start_date:
            problem(self.publication_date, _l("A publication about the visit cannot come out before the visit "
                                              "started (%(day)s).", day=day(self.registration.start_date)))
        if not self.languages.data:
            problem(self.languages, _l("Choose at least one language."))
        return valid and not any(field.errors for field in (self.url, self.publication_date, self.languages))


class EvaluationForm(Form):
    evaluation = SelectField(_l("Evaluation"), validators=[DataRequired()])
    note = TextAreaField(_l("Why"), validators=[Optional(), Length(max=LONG_TEXT)])
    version = VersionField()
    submit = SubmitField(_l("Save the evaluation"))

    def fill_choices(self) -> None:
        self.evaluation.choices = enum_choices(Evaluation, EVALUATION_LABELS)


class CorrectionForm(Form):
    note = TextAreaField(_l("What should be corrected"), validators=[DataRequired(), Length(max=LONG_TEXT)])
    version = VersionField()
    submit = SubmitField(_l("Ask for a correction"))


class AcceptForm(Form):
    version = VersionField()
    submit = SubmitField(_l("Accept the reported product"))


class EvidenceForm(Form):
    file = FileField(_l("File"), validators=[DataRequired(message=_l("Choose a file."))])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=SHORT_TEXT)])
    submit = SubmitField(_l("Add the file"))


class RemoveForm(Form):
    submit = SubmitField(_l("Remove"))


class CaseForm(Form):
    title = StringField(_l("Title of the content"), validators=[DataRequired(), Length(max=SHORT_TEXT)])
    url = StringField(_l("Web address (URL)"), validators=[Optional(), Length(max=2000), _http_url])
    publisher = StringField(_l("Publisher"), validators=[Optional(), Length(max=200)])
    country = SelectField(_l("Country of the publisher"), validators=[Optional()])
    finding = TextAreaField(_l("What was found"), validators=[DataRequired(), Length(max=LONG_TEXT)],
                            description=_l("For example: a map of Vietnam without the Hoàng Sa and Trường Sa "
                                           "archipelagos, at 02:15 in the video."))
    detected_on = DateField(_l("Detected on"), validators=[DataRequired(), _sane_date])
    status = SelectField(_l("Status"), validators=[DataRequired()])
    reported_to = StringField(_l("Reported to"), validators=[Optional(), Length(max=SHORT_TEXT)],
                              description=_l("The competent body, e.g. the Ministry of Foreign Affairs (Press "
                                             "and Information Department)."))
    reported_on = DateField(_l("Reported on"), validators=[Optional(), _sane_date])
    steps_taken = TextAreaField(_l("Steps taken"), validators=[Optional(), Length(max=LONG_TEXT)])
    handled_on = DateField(_l("Handled on"), validators=[Optional(), _sane_date])
    evidence = FileField(_l("Evidence file (optional)"), description=_l("A screenshot or a PDF archive."))
    version = VersionField()
    submit = SubmitField(_l("Save the case"))

    def fill_choices(self) -> None:
        self.country.choices = country_choices()
        self.status.choices = enum_choices(CaseStatus, CASE_STATUS_LABELS)


class ProductFilterForm(Form):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)],
                    description=_l("Title, outlet, URL or registration reference"))
    outlet = SelectField(_l("Outlet"), validators=[Optional()], validate_choice=False, widget=QuickSelect())
    country = SelectField(_l("Target country"), validators=[Optional()], validate_choice=False, widget=QuickSelect())
    language = SelectField(_l("Language"), validators=[Optional()], validate_choice=False, widget=QuickSelect())
    type = SelectField(_l("Type"), validators=[Optional()], validate_choice=False, widget=QuickSelect())
    channel = SelectField(_l("Channel"), validators=[Optional()], validate_choice=False, widget=QuickSelect())
    sector = SelectField(_l("Sector"), validators=[Optional()], validate_choice=False, widget=QuickSelect())
    evaluation = SelectField(_l("Evaluation"), validators=[Optional()], validate_choice=False, widget=QuickSelect())
    status = SelectField(_l("Status"), validators=[Optional()], validate_choice=False, widget=QuickSelect())
    linked = SelectField(_l("Linked to a visit"), validators=[Optional()], validate_choice=False, widget=QuickSelect())
    date_from = DateField(_l("Published from"), validators=[Optional()])
    date_to = DateField(_l("Published to"), validators=[Optional()])
    sort = SelectField(_l("Sort by"), validators=[Optional()], validate_choice=False, widget=QuickSelect())
    submit = SubmitField(_l("Filter"))
