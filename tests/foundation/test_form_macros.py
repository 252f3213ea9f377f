"""Form macros: radio groups link from the error summary to their first radio button."""

import pytest
from litestar.plugins.jinja import JinjaTemplateEngine

from governance.errors import FieldError
from governance.settings import TEMPLATE_DIR
from governance.web.forms import FormState
from governance.web.templating import configure_environment
from tests.foundation.test_pages import parse

TEMPLATE = """{% from "macros/forms.html" import error_summary, radios %}
{{ error_summary(form.errors) }}
{{ radios("screening.outcome", "Is a full DPIA required?", form, [("required", "Yes"), ("not_required", "No"), ("unsure", "Not sure")]) }}
"""


@pytest.fixture
def rendered():
    engine = JinjaTemplateEngine(directory=TEMPLATE_DIR)
    configure_environment(engine)
    form = FormState(errors=[FieldError("screening.outcome", "choose whether a full DPIA is required")])
    return parse(engine.engine.from_string(TEMPLATE).render(form=form))


def radio_ids(page):
    return [attributes["id"] for tag, attributes in page.tags if attributes.get("type") == "radio"]


def test_first_radio_has_field_id(rendered):
    assert radio_ids(rendered) == ["screening-outcome", "screening-outcome-2", "screening-outcome-3"]


def test_summary_link_is_first_radio(rendered):
    assert rendered.summary_links == ["screening-outcome"]


def test_every_radio_labelled(rendered):
    assert [radio for radio in radio_ids(rendered) if radio not in rendered.label_targets] == []


def test_radio_ids_unique(rendered):
    ids = [attributes["id"] for tag, attributes in rendered.tags if "id" in attributes]
    assert len(ids) == len(set(ids))


CORE_TEMPLATE_FOLDERS = ("", "admin", "use_cases", "macros")


def core_error_summaries():
    for folder in CORE_TEMPLATE_FOLDERS:
        for path in sorted((TEMPLATE_DIR / folder).glob("*.html")):
            for line in path.read_text().splitlines():
                if 'class="error-summary"' in line:
                    yield path.relative_to(TEMPLATE_DIR), line


def test_core_error_summaries_found():
    assert len(list(core_error_summaries())) >= 5


def test_core_error_summaries_take_focus():
    assert [str(path) for path, line in core_error_summaries() if "autofocus" not in line] == []
