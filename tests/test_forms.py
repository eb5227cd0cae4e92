"""app/forms.py's faster renderers write exactly WTForms' markup."""
from __future__ import annotations

import pytest
import wtforms
from markupsafe import Markup
from wtforms.widgets import Select
from wtforms.widgets.core import html_params as wtforms_html_params

from app.forms import QuickSelect, quick_html_params

ATTRIBUTE_SETS = [
    {},
    {"name": "purpose", "id": "purpose", "value": "A report on the province's coffee."},
    {"class_": "form-control is-invalid", "for_": "x", "data_row_select": True, "aria_describedby": "a b"},
    {"value": 'He said "hello" & <left>', "title": "Đà Lạt – Lâm Đồng"},
    {"value": Markup('already <b>safe</b> with a "quote"'), "placeholder": Markup("a &amp; b")},
    {"required": True, "disabled": False, "readonly": False, "checked": True, "maxlength": 200, "min": 0},
    {"value": None, "step": 0.5, "data_x_y_z": "1"},
]


@pytest.mark.parametrize("attributes", ATTRIBUTE_SETS)
def test_quick_html_params_is_wtforms_html_params(attributes):
    assert quick_html_params(**attributes) == wtforms_html_params(**attributes)
    assert isinstance(quick_html_params(**attributes), Markup)


class _Form(wtforms.Form):
    name = wtforms.StringField("Name", validators=[wtforms.validators.InputRequired(),
                                                   wtforms.validators.Length(max=20)])
    day = wtforms.DateField("Day")
    agree = wtforms.BooleanField("Agree")
    attach = wtforms.SubmitField('Attach "the" file')
    place = wtforms.SelectField("Place", choices=[
        wtforms.SelectChoice("", "—"), wtforms.SelectChoice("1", "Tây Ninh <border>"),
        wtforms.SelectChoice("2", 'A "quoted" place', render_kw={"data_border": True, "title": "x & y"}),
        wtforms.SelectChoice("3", "")])


def test_inputs_and_buttons_render_as_wtforms_renders_them(monkeypatch):
    """The override sits on WTForms' Input and Button classes: the same fields through WTForms'
    own html_params give the same markup."""
    form = _Form(data={"name": 'Nguyễn "Văn" <An>', "agree": True})

    def render():
        return [str(form.name(class_="form-control", data_x="1")), str(form.day()), str(form.agree()),
                str(form.attach())]

    assert wtforms.widgets.Input.__dict__["html_params"].__func__ is quick_html_params  # in place
    assert wtforms.widgets.Button.__dict__["html_params"].__func__ is quick_html_params
    rendered = render()
    monkeypatch.setattr(wtforms.widgets.Input, "html_params", staticmethod(wtforms_html_params))
    monkeypatch.setattr(wtforms.widgets.Button, "html_params", staticmethod(wtforms_html_params))
    expected = render()
    assert rendered == expected
    assert 'maxlength="20"' in rendered[0] and "required" in rendered[0] and "&#34;Văn&#34;" in rendered[0]


@pytest.mark.parametrize("chosen", [None, "", "2"])
def test_quick_select_is_wtforms_select(chosen):
    form = _Form(data={"place": chosen})
    assert QuickSelect()(form.place, class_="form-select") == Select()(form.place, class_="form-select")
