"""The administrator's form for the guide: the Markdown text in each language."""
from flask_babel import lazy_gettext as _l
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.forms import Form

GUIDE_MAX_LENGTH = 30_000
_MARKDOWN_HINT = _l("Markdown: “## ” starts a heading, “- ” a list item, [text](https://...) makes a link. "
                    "HTML, images and scripts are removed.")


class GuideForm(Form):
    body_vi = TextAreaField(_l("Vietnamese"), validators=[DataRequired(), Length(max=GUIDE_MAX_LENGTH)],
                            description=_MARKDOWN_HINT, render_kw={"rows": 24, "lang": "vi", "spellcheck": "true"})
    body_en = TextAreaField(_l("English"), validators=[DataRequired(), Length(max=GUIDE_MAX_LENGTH)],
                            description=_MARKDOWN_HINT, render_kw={"rows": 24, "lang": "en", "spellcheck": "true"})
    submit = SubmitField(_l("Save the guide"))

    def bodies(self) -> dict[str, str]:
        return {"vi": self.body_vi.data, "en": self.body_en.data}
