"""The one escaper and the number formatter: user strings stay text, numbers stay whole."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import text


@pytest.mark.parametrize(
    "hostile",
    [
        "![x](http://evil.example/p.png)",
        "[click](http://evil.example)",
        r"$\color{red}\Huge{cat}$",
        ":red[cat] :material/home:",
        "**bold** _it_ `code` <b>x</b> | cell",
        "# heading\n- list",
    ],
)
def test_markdown_escaping_leaves_no_markup_character_unescaped(hostile):
    out = text.md(hostile)
    assert "\n" not in out
    for i, c in enumerate(out):
        if c in "![]()$:*_`<>|#-\\" and c != "\\":
            assert out[i - 1] == "\\", (out, i)


def test_html_escaping_for_chart_text():
    assert text.html('<a href="x">cat</a>') == "&lt;a href=&quot;x&quot;&gt;cat&lt;/a&gt;"
    assert text.html("a\nb") == "a b"


def test_clean_name_removes_invisible_and_bidi_characters_and_says_so():
    name, notes = text.clean_name("cat\u200b")
    assert name == "cat" and notes and "invisible" in notes[0]
    name, notes = text.clean_name("\u202egod\u202c")
    assert name == "god" and notes
    assert text.clean_name("  plain   name ") == ("plain name", [])
    # Combining forms are composed (NFC), so 'é' typed two ways is one name.
    assert text.clean_name("e\u0301")[0] == "\u00e9"


def test_name_key_makes_look_alikes_equal():
    assert text.name_key("Cat") == text.name_key("ｃａｔ") == text.name_key("cat")
    assert text.name_key("cat") != text.name_key("cut")


def test_numbers_keep_their_exponent():
    assert text.number(0.93148) == "0.9315"
    assert text.number(4.57e-15) == "4.57 × 10⁻¹⁵"
    assert text.number(1.929e-22) == "1.93 × 10⁻²²"
    assert text.number(3.2e9) == "3.20 × 10⁹"
    assert text.number(-0.0) == "0.0000"
    assert text.number(math.inf) == "∞" and text.number(math.nan) == "nan"
    assert text.tex_number(4.57e-15) == r"4.57 \times 10^{-15}"
    assert text.tex_number(math.inf) == r"\infty"
    assert text.percent(0.60268) == "60.3%" and text.percent(0.628) == "62.8%"


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_a_cleaned_name_is_clean(raw):
    """Cleaning twice changes nothing, so a name that came in through a link reads back the same."""
    name, _ = text.clean_name(raw)
    assert text.clean_name(name) == (name, [])


@pytest.mark.parametrize(
    "address", ["http://evil.example", "HTTPS://x.y/p", "www.evil.example", "a@b.co", "xmpp:a@b.c"]
)
def test_markdown_text_makes_no_link(address):
    """Streamlit links web and mail addresses even when escaped: a word joiner (invisible)
    before ':' and '@' and after 'www' keeps them text; the text reads the same."""
    out = text.md(f"see {address} now")
    assert "\u2060" in out
    assert re.search(r"(?i)(https?|mailto|xmpp)\\:|www\\\.|(?<!\u2060)\\@", out) is None, out
    assert text.md("Saved: pets 1:2") == r"Saved\: pets 1\:2"  # other text as it was
    shown = re.sub(r"\\(.)", r"\1", out).replace("\u2060", "")  # what the reader sees
    assert shown == f"see {address} now"


def test_an_operators_setting_is_shown_as_code_letter_for_letter():
    assert text.code("http://mirror.example/pets.zip") == "`http://mirror.example/pets.zip`"
    assert text.code("/data/with`tick") == "`/data/with'tick`"  # a backtick cannot end the span
