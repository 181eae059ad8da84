"""The Explain page's words and formulas: text computed from the view's numbers.

Markdown and LaTeX only (no Streamlit): every class name in Markdown goes through
core.text.md, every name in LaTeX through core.text.tex_text, every number through
core.text.number or tex_number. Words that interpret a number are computed from it.
"""

from __future__ import annotations

import math

from core.explain.state import BASES
from core.explain.view import Descent, ExplainView, OverflowPart
from core.text import md, number, tex_number, tex_text

LOG_SYMBOL = {"e": r"\ln", "10": r"\log_{10}", "2": r"\log_{2}"}


def base_note(v: ExplainView) -> str:
    """Why ln, and what the other bases do, with this state's loss."""
    nats = v.loss * math.log(BASES[v.state.base])
    return (
        "Natural log is the right one: the softmax is built from powers of e, so "
        r"$-\ln p_y = \ln\sum_j e^{s_j} - s_y$ and its gradient is exactly $p - \text{onehot}$. "
        f"The other bases only divide the loss: log10 by ln 10 = 2.3026 (here {number(nats)} / 2.3026 = "
        f"{number(nats / math.log(10))}; the post first printed 0.0308, its 0.0709 nats in base 10), "
        f"log2 by ln 2 = 0.6931 (here {number(nats)} / 0.6931 = {number(nats / math.log(2))} bits)."
    )


TOPK_HELP = (
    "The post's remark: on ImageNet a prediction counts as top-5 correct when the true "
    "label is among the five highest scores. With 5 classes or fewer, top-5 is always correct."
)
HINGE_NOTE = (
    "The hinge losses stop pushing once the true class wins by the margin of 1; "
    "cross-entropy never stops: it always wants a little more probability on the true class."
)
SHIFT_NOTE = (
    "Adding the same number **c** to every score changes nothing: "
    r"$e^{s_j + c} / \sum_k e^{s_k + c} = e^{s_j} / \sum_k e^{s_k}$. "
    "That is why we may subtract the largest score before exponentiating, and why we must: "
    "a float64 $e^x$ overflows to ∞ above 709.78 and underflows to 0 below about −745."
)
HINGE_FORMULAS = (
    r"L_{\text{hinge}} = \sum_{j \ne y} \max(0,\, s_j - s_y + 1)",
    r"L_{\text{sq. hinge}} = \sum_{j \ne y} \max(0,\, s_j - s_y + 1)^2",
)


def loss_formulas(v: ExplainView) -> list[str]:
    """The three losses and cross-entropy's gradient as the table below them computes them:
    with the page's log base and temperature (p - onehot holds for ln and T = 1 only).
    One formula a line, so that each fits a phone."""
    log, t = LOG_SYMBOL[v.state.base], v.state.temperature
    scale = []  # the gradient's divisor, one factor per setting away from the default
    if t != 1:
        scale.append("T")
    if v.state.base != "e":
        scale.append(r"\ln " + v.state.base)
    grad = r"p_j - [j = y]" if not scale else r"\frac{p_j - [j = y]}{" + r" \, ".join(scale) + "}"
    p = r"p = \mathrm{softmax}(s)" if t == 1 else r"p = \mathrm{softmax}(s / T),\ T = " + f"{t:g}"
    # with T, p's definition on a line of its own: one line would run off a phone
    loss = (
        [r"L_{\text{CE}} = -" + log + r" p_y, \quad " + p]
        if t == 1
        else [r"L_{\text{CE}} = -" + log + r" p_y \,", p]
    )
    return [*loss, r"\frac{\partial L_{\text{CE}}}{\partial s_j} = " + grad, *HINGE_FORMULAS]


def over_t(v: ExplainView) -> str:
    return "" if v.state.temperature == 1 else "/T"


def topk_sentence(v: ExplainView) -> str:
    s, y = v.state.scores, v.state.target
    tied = [md(c) for i, c in enumerate(v.state.classes) if i != y and s[i] == s[y]]
    tie = (
        f" (tied with {', '.join(tied)}: a tie is not a win, so the tie counts against it)"
        if tied and s[y] == max(s)
        else ""
    )
    top5 = f" (trivially: there are only {len(s)} classes)" if len(s) <= 5 else ""
    return (
        f"**{md(v.true_class)}** ranks **{v.rank}** of {len(v.state.classes)}{tie}: "
        f"top-1 {'correct' if v.top1 else 'wrong'}, top-5 {'correct' if v.top5 else 'wrong'}{top5}."
    )


def formulas(v: ExplainView) -> list[str]:
    """p and the loss with today's numbers, one step a line so they fit a phone however long
    the numbers get (the trailing thin space keeps KaTeX's last glyph inside its box)."""
    y, t, log = tex_text(v.true_class), over_t(v), LOG_SYMBOL[v.state.base]
    num, den = v.table.exp[v.state.target], v.table.exp.sum()
    return [
        rf"\begin{{aligned}} p_{{\text{{{y}}}}} &= \frac{{e^{{s_{{\text{{{y}}}}}{t}}}}}{{\sum_j e^{{s_j{t}}}}}"
        rf" = \frac{{{tex_number(num)}}}{{{tex_number(den)}}} \\ &= {tex_number(v.p_true)} \end{{aligned}} \,",
        rf"\begin{{aligned}} L &= -{log} p_{{\text{{{y}}}}} = -{log} {tex_number(v.p_true)} \\"
        rf" &= {tex_number(v.loss)} \text{{ {v.unit}}} \end{{aligned}} \,",
    ]


def exp_overflow_note(v: ExplainView) -> str:
    return (
        f"exp(s{over_t(v)}) overflows to ∞ above 709.78; the probabilities are still exact because "
        "they are computed after subtracting the largest score (see the overflow tab)."
    )


def gradient_table(v: ExplainView, loss: str) -> str:
    """Markdown: each class's score, the chosen loss's gradient, and which way it moves."""
    g = v.gradients[loss]
    rows = [f"| class | score | ∂L/∂s ({loss}) | move |", "|:---|---:|---:|:---|"]
    for i, (name, s) in enumerate(zip(v.state.classes, v.state.scores)):
        move = "↑ raise" if g[i] < -1e-12 else "↓ lower" if g[i] > 1e-12 else "· hold"
        shown = f"**{md(name)}** (true)" if i == v.state.target else md(name)
        rows.append(f"| {shown} | {number(s)} | {number(g[i])} | {move} |")
    return "\n".join(rows)


def descent_summary(d: Descent) -> str:
    n = len(d.losses) - 1
    return (
        f"{n} step{'s' if n > 1 else ''} of {d.loss_name} at learning rate {d.learning_rate:g}: "
        f"loss {number(d.losses[0])} → {number(d.losses[-1])}."
    )


def overflow_message(o: OverflowPart, z: str = "s") -> tuple[str, str]:
    """("error" or "success", what happened to the naive form with this shift, and why).
    `z` names what was exponentiated (s, or s/T)."""
    diff = f"largest difference {o.largest_difference:.1e}"
    if o.view.naive_failure == "overflow":
        return "error", (
            f"Naive softmax overflowed with c = {o.shift:g}: the largest e^({z} + c) is ∞, so the sum is ∞ "
            f"and ∞ / ∞ = nan. The max-subtracted form still gives the same probabilities ({diff})."
        )
    if o.view.naive_failure == "underflow":
        return "error", (
            f"Naive softmax underflowed with c = {o.shift:g}: every e^({z} + c) is below the smallest "
            "float64 (about e^−745), so each is 0, the sum is 0 and 0 / 0 = nan. The max-subtracted "
            f"form still gives the same probabilities ({diff}): its largest term is e^0 = 1."
        )
    if o.naive_difference > 1e-9:
        return "warning", (
            f"Naive softmax did not break with c = {o.shift:g}, but it lost precision: its exponentials "
            "are so small (near the smallest float64, about e^−745) that only a few digits survive, "
            f"and its probabilities differ from the stable ones by up to {o.naive_difference:.1e}. "
            f"The max-subtracted form keeps every digit ({diff} from the page's p)."
        )
    return "success", (
        f"Both forms agree with c = {o.shift:g}: the naive and the stable probabilities differ by at "
        f"most {o.naive_difference:.1e}, and the shift did not move them ({diff}). Try c = 1000 or −1000."
    )
