"""Text the app shows: user-supplied strings as plain text, and numbers whole.

One rule for every string a user can supply (class names from a link or a model file,
file names, dataset names): it is shown as itself, never as markup. Streamlit renders
Markdown (and LaTeX, colour directives, images, links) in widget labels, radio options,
metric labels, captions and markdown; plotly renders a subset of HTML in chart text.
So a name passes `clean_name` once when it comes in, and then `md` or `html` at the
place where it is shown. Numbers go through `number`, which never drops an exponent.
"""

from __future__ import annotations

import html as _html
import math
import re
import unicodedata

# Every ASCII punctuation mark: escaped, none of them can start markup in Markdown,
# KaTeX ($), Streamlit's directives (:red[...], :material/icon:) or a table cell (|).
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")
# Characters that change how text reads without showing: zero-width spaces and joiners,
# bidi embeddings, overrides and isolates, the BOM, soft hyphen, tag characters...
# (Unicode's "format" category), and control characters.
_INVISIBLE_CATEGORIES = {"Cf", "Cc", "Co", "Cs"}


# Streamlit turns any web or mail address in rendered text into a link, escaped or not
# ("http\:\/\/x", "www\.x", "a\@b" and their character references all become links). An
# invisible word joiner where such an address starts to be one (after http, https, mailto,
# xmpp and www; before '@') leaves it text.
_WORD_JOINER = "\u2060"
_LINKABLE = re.compile(
    r"(?=@)|(?:(?<=\bhttp)|(?<=\bhttps)|(?<=\bmailto)|(?<=\bxmpp))(?=:)|(?<=\bwww)(?=\.)", re.IGNORECASE
)


def md(text: object) -> str:
    """Text for any place Streamlit renders Markdown: shown as itself, on one line, with no
    markup and no link made of it."""
    flat = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", _LINKABLE.sub(_WORD_JOINER, flat))


def html(text: object) -> str:
    """Text for plotly labels, hover text and titles (which render <b>, <a href>, <br>...)."""
    return _html.escape(" ".join(str(text).split()), quote=True)


def clean_name(raw: object) -> tuple[str, list[str]]:
    """A user-supplied name as the app keeps it: Unicode NFC, no invisible or bidi control
    characters, white space folded. Returns (name, what was changed, in words)."""
    text = str(raw).encode("utf-8", "replace").decode("utf-8")  # a lone surrogate cannot be shown
    kept = "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE_CATEGORIES or c in "\t\n\r")
    # Composed after the removal: an invisible character between a letter and its accent
    # would otherwise leave them uncomposed, and a second cleaning would change the name.
    kept = unicodedata.normalize("NFC", kept)
    notes = []
    removed = sum(unicodedata.category(c) in _INVISIBLE_CATEGORIES and c not in "\t\n\r" for c in text)
    if removed:
        notes.append(
            f"'{md(kept[:20])}' held {removed} invisible or text-direction character"
            f"{'s' if removed > 1 else ''}; {'they were' if removed > 1 else 'it was'} removed."
        )
    return " ".join(kept.split()), notes


def name_key(name: str) -> str:
    """What two names are compared by: look-alike spellings (compatibility forms, case)
    of one name give one key, so 'Cat' and 'ｃａｔ' count as the same class name."""
    return unicodedata.normalize("NFKC", name).casefold()


# ---------------------------------------------------------------- numbers

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def number(x: float, decimals: int = 4) -> str:
    """A number as the app prints it: `decimals` places, or 3 significant digits times a
    power of ten when it would print as 0.0000 or run to seven digits or more
    (4.57 × 10⁻¹⁵: a confident mistake's tiny probability keeps its exponent)."""
    x = float(x) + 0.0  # -0.0 (from -log 1) prints as 0
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x != 0 and (abs(x) < 10 ** (-decimals) or abs(x) >= 1e6):
        mantissa, exponent = f"{x:.2e}".split("e")
        return f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"
    return f"{x:.{decimals}f}"


def tex_number(x: float, decimals: int = 4) -> str:
    """number() for LaTeX: 4.57 \\times 10^{-15}, \\infty."""
    x = float(x) + 0.0
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    if math.isnan(x):
        return r"\text{nan}"
    if x != 0 and (abs(x) < 10 ** (-decimals) or abs(x) >= 1e6):
        mantissa, exponent = f"{x:.2e}".split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return f"{x:.{decimals}f}"


def tex_text(name: str) -> str:
    r"""A name that is safe inside \text{} in KaTeX: letters, digits and a few marks."""
    safe = "".join(c for c in name if c.isalnum() or c in " -.,:()'")
    return safe or "y"


def percent(p: float, decimals: int = 1) -> str:
    """0.6027 -> '60.3%': every percentage on a page with the same number of decimals."""
    return f"{100 * float(p):.{decimals}f}%"


def finite_number(text: str) -> float | None:
    """A number typed or read from a link, if it is one and finite ('nan', '1e999': None)."""
    try:
        x = float(str(text).strip())
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def code(text: object) -> str:
    """An operator's setting (a folder, a URL) as Markdown code: shown letter for letter,
    never made a link; a backtick in it cannot end the code span."""
    return "`" + " ".join(str(text).split()).replace("`", "'") + "`"
