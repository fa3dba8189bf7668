"""Text people read: names and descriptions shown in answers, emails, pages and terminals.

Such text must not hold characters that change how other text is shown or hide what it says:

* control characters (Unicode category Cc: NUL, the ESC of ANSI sequences, BEL, tab, DEL, the C1
  controls, …), except a line break (``\\n`` or ``\\r\\n``) in multi-line text (descriptions,
  notes);
* invisible formatting characters (Cf): direction overrides and isolates (``U+202E`` shows
  ``"Acme\\u202egpj.exe"`` as ``Acmeexe.jpg``), zero-width spaces, the byte order mark, soft
  hyphens, tag characters, … except the zero-width non-joiner and joiner (``U+200C``,
  ``U+200D``), which Persian and Indic writing and emoji sequences need;
* line and paragraph separators (``U+2028``, ``U+2029``) and unpaired surrogates.

Everything else is kept as given: letters of every script, spaces, emoji, private-use characters.
"""

from __future__ import annotations

import unicodedata

_JOINERS = frozenset("\u200c\u200d")
_WHY = {
    "Cc": "control characters",
    "Cf": "invisible formatting characters",
    "Cs": "unpaired surrogates",
    "Zl": "line separators",
    "Zp": "paragraph separators",
}


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` is not fit to show people, or None when it is."""
    if value.isprintable():  # the common case, at C speed: nothing below can be in it
        return None
    checked = value.replace("\r\n", "\n") if multiline else value
    for ch in checked:
        if ch == "\n":
            if multiline:
                continue
            return "must be a single line (U+000A)"
        why = _WHY.get(unicodedata.category(ch))
        if why is not None and ch not in _JOINERS:
            return f"must not contain {why} (U+{ord(ch):04X})"
    return None


__all__ = ["text_problem"]
