"""The period picker of the indicators (a GET form: the period is in the address, so it can be shared)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectChoice, SelectField, SubmitField
from wtforms.validators import DataRequired, NumberRange, Optional

from app.forms import Form
from app.indicators.service import FIRST_YEAR, LAST_YEAR, MAX_CUSTOM_DAYS, Period, custom_period, period_for


class IndicatorPeriodForm(Form):
    class Meta:
        csrf = False

    kind = SelectField(_l("Period"), validators=[DataRequired()], choices=[
        SelectChoice("month", _l("Month")), SelectChoice("quarter", _l("Quarter")),
        SelectChoice("year", _l("Year")), SelectChoice("custom", _l("Dates of my choice"))])
    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(min=FIRST_YEAR, max=LAST_YEAR)])
    number = IntegerField(_l("Month or quarter"), validators=[Optional(), NumberRange(min=1, max=12)])
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    submit = SubmitField(_l("Show"))

    def period(self) -> Period | None:
        """The chosen period once the form validates; else None, with the messages on the fields."""
        if not self.validate():
            return None
        kind = self.kind.data
        if kind == "custom":
            return self._custom()
        if self.year.data is None:
            self.year.errors.append(_l("Enter the year."))
            return None
        if kind == "month" and self.number.data is None:
            self.number.errors.append(_l("Enter the month, from 1 to 12."))
            return None
        if kind == "quarter" and (self.number.data is None or self.number.data > 4):
            self.number.errors.append(_l("Enter the quarter, from 1 to 4."))
            return None
        return period_for(kind, self.year.data, self.number.data)

    def _custom(self) -> Period | None:
        for field in (self.start, self.end):
            if field.data is None:
                field.errors.append(_l("Enter the date."))
        if self.start.errors or self.end.errors:
            return None
        if self.end.data < self.start.data:
            self.end.errors.append(_l("The end date cannot be before the start date."))
            return None
        if self.start.data.year < FIRST_YEAR or self.end.data.year > LAST_YEAR:
            self.start.errors.append(_l("Choose dates from %(first)d to %(last)d.", first=FIRST_YEAR,
                                        last=LAST_YEAR))
            return None
        if (self.end.data - self.start.data).days + 1 > MAX_CUSTOM_DAYS:
            self.end.errors.append(_l("A period may be at most ten years long."))
            return None
        return custom_period(self.start.data, self.end.data)
