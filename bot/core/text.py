"""Plain-text normalisation shared by the list editor and the store: ``clean_text`` (untrusted text made one
clean line) and ``normalize_title`` (the form two titles are compared in), and ``title_key``, the indexed
form of a title the store keeps beside each paper (``papers.title_key``) so the list's titles are looked
up, not scanned for. Pure: no I/O.

Changing ``normalize_title`` changes every stored key: ship it with a migration that recomputes
``papers.title_key`` (as 0011 computed it first).
"""

from __future__ import annotations

import html
import re
import unicodedata

TITLE_KEY_CHARS = 250  # papers.title_key is String(250): a normalised title, cut to fit an index entry

# ANSI escape sequences (CSI and OSC) are dropped whole, so no "[31m" residue is left behind.
_ANSI_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_SPACE_RE = re.compile(r"\s+")
# Invisible letters that are not in a format category (Hangul fillers, Braille blank, Mongolian separator).
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
# Controls, format characters (bidi, zero-width), surrogates, private use.
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})



def clean_text(text: str | None) -> str:
    """NFC-normalise, drop control, bidi, zero-width and ANSI characters, collapse whitespace, trim."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = _ANSI_RE.sub("", text)
    text = _SPACE_RE.sub(" ", text)  # \n, \r, \t, U+2028, U+2029, U+0085 ... become one space
    text = "".join(
        ch for ch in text if ch not in _INVISIBLE and unicodedata.category(ch) not in _DROP_CATEGORIES
    )
    return _SPACE_RE.sub(" ", text).strip()



_MD_ESCAPE_RE = re.compile(r"\\([!-/:-@\[-`{-~])")
_GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
          "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega")


def _greek(name: str, case: str) -> str:
    return unicodedata.lookup(f"GREEK {case} LETTER {name.upper().replace('LAMBDA', 'LAMDA')}")


# LaTeX that arXiv titles use where lists write Unicode: Greek letters and function names.
_LATEX_SYMBOLS = {
    **{name: _greek(name, "SMALL") for name in _GREEK},
    **{name.capitalize(): _greek(name, "CAPITAL") for name in _GREEK},
    "varepsilon": "ε", "vartheta": "θ", "varphi": "φ", "varrho": "ρ", "varsigma": "ς", "ell": "ℓ",
    **{name: f" {name} " for name in ("log", "ln", "exp", "sin", "cos", "max", "min", "lim")},
}
# Greek letters compare as their names: "Delta-DiT", "Δ-DiT" and "$\\Delta$-DiT" are one title.
_GREEK_NAMES = {_LATEX_SYMBOLS[name]: name for name in _GREEK}  # lower case: applied after casefold
_MATH_RE = re.compile(r"\$([^$]{1,60})\$")
_LATEX_NAME_RE = re.compile(r"\\([A-Za-z]+)")
_LATEX_COMMAND_RE = re.compile(r"\\[A-Za-z]+\*?")
_NON_WORD_RE = re.compile(r"[\W_]+")


def plain_math(text: str) -> str:
    """``$\\alpha$-Quant`` -> ``α-Quant``, ``$O(n\\log n)$`` -> ``O(n log n)``: inline math made only of Greek
    letters, function names and plain characters becomes plain text; any other math is left as it is."""
    def plain(match: re.Match[str]) -> str:
        if not _LATEX_NAME_RE.search(match.group(1)):  # "$5 and $6": money, not math
            return match.group(0)
        inner = _LATEX_NAME_RE.sub(lambda m: _LATEX_SYMBOLS.get(m.group(1), m.group(0)), match.group(1))
        if "\\" in inner or any(ch in inner for ch in "^_{}"):
            return match.group(0)
        return " ".join(inner.split()) if inner.strip() else match.group(0)

    return _MATH_RE.sub(plain, text)


def normalize_title(text: str | None) -> str:
    """Lower-case words separated by single spaces: no punctuation, accents, Markdown, HTML or LaTeX
    (Greek letters count as themselves, ``&`` as "and")."""
    text = plain_math(clean_text(html.unescape(text or ""))).replace("&", " and ")
    text = _MD_ESCAPE_RE.sub(r"\1", text)  # \[ \| \' ... (Markdown escapes; LaTeX accents like \'e too)
    text = _LATEX_COMMAND_RE.sub(" ", text)  # \emph{x} -> " {x}", $\alpha$ -> "$ $"
    text = unicodedata.normalize("NFKD", text).casefold()
    text = "".join(_GREEK_NAMES.get(ch, ch) for ch in text if not unicodedata.combining(ch))
    return _NON_WORD_RE.sub(" ", text).strip()



def title_key(text: str | None) -> str:
    """The stored, indexed form of a title: ``normalize_title`` cut to ``TITLE_KEY_CHARS``."""
    return normalize_title(text)[:TITLE_KEY_CHARS].rstrip()
