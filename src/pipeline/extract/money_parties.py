"""Who gives, who receives, and at what stage: funder, recipient and flow stage of an amount.

Rules over the amount's sentence, with the vocabulary in ``resources/flow_stages.yaml``:
the stage is the stage cue nearest to the amount; the funder is the capitalised name that
is the subject of the nearest paying verb ("USAID provided $5 million") or follows "from"/
"by" after it; the recipient follows "to"/"for"/"in" after it ("... to Peru's Ministry of
Health"), or is the subject of a receiving verb ("Kenya received £30 million").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.extract.numbers import alternation, load_vocabulary

__all__ = ["Parties", "flow_stage", "parties"]

_VOCAB = load_vocabulary("flow_stages")
_ORDER: dict[str, int] = {stage: i for i, stage in enumerate(_VOCAB["stage_order"])}
_STAGE_OF: dict[str, str] = {
    str(cue).lower(): stage
    for stage in reversed(_VOCAB["stage_order"])  # earlier stages win a duplicated cue
    for cue in _VOCAB["stages"][stage]
}
_WEAK = frozenset(str(w) for w in _VOCAB["weak_cues"])
_PENALTY = int(_VOCAB["weak_cue_penalty"])


def _cased(words: list[str]) -> str:
    """Lower-case and capitalised forms: a case-sensitive scan is far faster than (?i)."""
    return alternation([form for w in words for form in (w, w[:1].upper() + w[1:])])


_CUE_RE = re.compile(r"(?<![\w-])(?:" + _cased(list(_STAGE_OF)) + r")(?![\w-])")
_FUTURE_RE = re.compile(
    r"(?i)(?<![\w-])(?:" + alternation([str(w) for w in _VOCAB["future_markers"]]) + r")"
    r"(?:\s+\S+){0," + str(int(_VOCAB["future_window_words"]) - 1) + r"}\s+$"
)
_PAYING = frozenset([*_STAGE_OF, *(str(v) for v in _VOCAB["funding_verbs"])])
_RECEIVING = frozenset(str(v) for v in _VOCAB["receiving_verbs"])
_VERB_RE = re.compile(r"(?<![\w-])(?P<verb>" + _cased([*_PAYING, *_RECEIVING]) + r")(?![\w-])")
_AUXILIARIES = frozenset(str(w) for w in _VOCAB["auxiliaries"])
_CONNECTORS = frozenset(str(w) for w in _VOCAB["name_connectors"])
_PHRASE_STOPS = frozenset(str(w) for w in _VOCAB["phrase_stops"])
_NOT_NAMES = frozenset(str(w) for w in _VOCAB["not_names"])
_ALIASES: dict[str, str] = {str(k): str(v) for k, v in _VOCAB["aliases"].items()}
_RECIPIENT_NOUNS = alternation([str(w) for w in _VOCAB["recipient_nouns"]])
_TO = alternation([str(w) for w in _VOCAB["recipient_prepositions"]])
_FROM = alternation([str(w) for w in _VOCAB["funder_prepositions"]])
# A short lower-case phrase may stand between the amount and its funder ("$3 million in
# grants funded by the EU"); the shortest one is tried first.
_BRIDGE = r"(?P<bridge>(?:\s+(?:in|of|for|worth))?(?:\s+[a-z][\w-]*){1,5}?)??"
# Between an amount and its recipient: no clause break, no second amount, no "and".
_AMOUNT_HINT_RE = re.compile(r"\b(?:and|or)\b|[\d$€£¥]")
_PREPOSITION_RE = re.compile(r"\s+(?P<prep>" + _TO + r")\s+(?:the\s+)?(?=\S)")
_CLAUSE_BREAK_RE = re.compile(r"[,;:()]|\b(?:which|that|who|while|but)\b")
_FUNDER_AFTER_RE = re.compile(r"\s*" + _BRIDGE + r"\s+(?:" + _FROM + r")\s+(?:the\s+)?(?=\S)")
_NOUN_RECIPIENT_RE = re.compile(r"(?P<name>(?:" + _RECIPIENT_NOUNS + r"))\b")
_TOKEN_RE = re.compile(r"\([A-Z][\w.&-]*\)|[\w.'’&-]+|[^\w\s]")
_DEMONYM_ENDINGS = ("ian", "ese", "ean", "ish", "can", "yan")
_MAX_NAME_TOKENS = 8
_MAX_VERB_GAP = 100  # characters between a paying verb and its amount


@dataclass(frozen=True, slots=True)
class Parties:
    funder: str | None
    recipient: str | None
    recipient_end: int | None = None  # end of a recipient named right after the amount


def _cue_ok(text: str, sentence_start: int, m: re.Match[str]) -> bool:
    """Lower-case cue, or capitalised only as the sentence's first word ("Investment in")."""
    if m.group()[0].islower():
        return True
    return text[sentence_start : m.start()].strip(" \t-*•\"'(") == ""


def flow_stage(text: str, sentence: tuple[int, int], start: int, end: int) -> str:
    """Stage of the amount at ``[start, end)``: the nearest cue's, 'other' without one."""
    best: tuple[int, int, str] | None = None
    for m in _CUE_RE.finditer(text, *sentence):
        if (m.end() > start and m.start() < end) or not _cue_ok(text, sentence[0], m):
            continue
        word = m.group().lower()
        stage = _STAGE_OF[word]
        if stage in ("disbursement", "investment") and _FUTURE_RE.search(
            text, max(sentence[0], m.start() - 40), m.start()
        ):
            stage = "pledge"  # "will provide", "plans to invest": the money has not moved
        before = m.end() <= start
        distance = start - m.end() if before else m.start() - end
        if word in _WEAK:
            distance *= _PENALTY
        gap = (m.end(), start) if before else (end, m.start())
        if _CLAUSE_BREAK_RE.search(text, *gap):
            distance *= 2  # "Of the $3 billion announced, $1 billion was disbursed"
        key = (distance, _ORDER[stage], stage)
        if best is None or key < best:
            best = key
    return best[2] if best else "other"


def _is_name_token(token: str) -> bool:
    return token[:1].isupper() and token not in _NOT_NAMES and not any(c.isdigit() for c in token)


def _clean_name(name: str) -> str | None:
    name = re.sub(r"['’]s?$", "", name.strip(" ,;:"))  # "President Obama's intent"
    if name.endswith(".") and not re.search(r"(?:^|\s|\.)[A-Z]\.$", name):
        name = name[:-1]  # a sentence's full stop, not the one of "U.S."
    if name.lower().startswith("the "):
        name = name[4:]
    if not name or name in _NOT_NAMES:
        return None
    return _ALIASES.get(name, name)


def _name_after(text: str, pos: int, limit: int) -> tuple[str, int] | None:
    """Capitalised name starting at ``pos`` ("Peru's Ministry of Health (MINSA)")."""
    tokens = list(_TOKEN_RE.finditer(text, pos, limit))[: _MAX_NAME_TOKENS + 1]
    last = -1
    for i, t in enumerate(tokens):
        word = t.group()
        if i > 0 and t.start() > tokens[i - 1].end() + 1:
            break  # a line or layout gap ends the name
        if word.startswith("(") and last >= 0:
            return word[1:-1], t.end()  # the acronym is the short name
        if _is_name_token(word) or (word == "The" and i == 0):
            last = i
        elif not (
            last >= 0
            and word in _CONNECTORS
            and i + 1 < len(tokens)
            and _is_name_token(tokens[i + 1].group())
        ):
            break  # a connector only inside a name ("Ministry of Health")
    if last < 0:
        return _demonym_phrase(tokens) if tokens else None
    end = tokens[last].end()
    if last == 0 and tokens[0].group().endswith(_DEMONYM_ENDINGS):
        return _demonym_phrase(tokens)
    name = _clean_name(text[pos:end])
    return (name, end) if name else None


def _demonym_phrase(tokens: list[re.Match[str]]) -> tuple[str, int] | None:
    """ "Peruvian law enforcement institutions": an adjective of nationality and its noun."""
    first = tokens[0].group()
    if not (_is_name_token(first) and first.endswith(_DEMONYM_ENDINGS)):
        return None
    end = 1
    while end < min(len(tokens), 5) and re.fullmatch(r"[a-z][\w-]*", tokens[end].group()):
        if tokens[end].group() in _CONNECTORS or tokens[end].group() in _PHRASE_STOPS:
            break
        end += 1
    if end == 1:
        return None
    return " ".join(t.group() for t in tokens[:end]), tokens[end - 1].end()


def _name_before(text: str, lo: int, hi: int) -> str | None:
    """Capitalised name ending at ``hi`` after auxiliaries ("USAID has also" -> "USAID")."""
    tokens = list(_TOKEN_RE.finditer(text, max(lo, hi - 160), hi))  # a name is short
    while tokens and tokens[-1].group().lower() in _AUXILIARIES:
        tokens.pop()
    if tokens and tokens[-1].group() == ",":  # "USAID, with NASA, invested": skip the aside
        aside = [i for i, t in enumerate(tokens[:-1]) if t.group() == ","]
        if aside and len(tokens) - aside[-1] <= _MAX_NAME_TOKENS + 2:
            tokens = tokens[: aside[-1]]
    acronym: str | None = None
    if tokens and tokens[-1].group().startswith("(") and len(tokens[-1].group()) > 2:
        acronym = tokens.pop().group()[1:-1]
    first = len(tokens)
    for i in range(len(tokens) - 1, max(-1, len(tokens) - 1 - _MAX_NAME_TOKENS), -1):
        word = tokens[i].group()
        if _is_name_token(word) or (word.endswith(("'s", "’s")) and word[:1].isupper()):
            first = i
        elif not (word in _CONNECTORS and first == i + 1 and i > 0):
            break
    if first == len(tokens):
        return _demonym_subject(tokens)
    if acronym:
        return acronym
    while first < len(tokens) and tokens[first].group() in _CONNECTORS:
        first += 1
    if first == len(tokens):
        return None
    return _clean_name(text[tokens[first].start() : tokens[-1].end()])


def _demonym_subject(tokens: list[re.Match[str]]) -> str | None:
    """ "American firms have invested": a nationality and a plural noun as the subject."""
    if len(tokens) < 2:
        return None
    adjective, noun = tokens[-2].group(), tokens[-1].group()
    demonym = _is_name_token(adjective) and adjective.endswith(_DEMONYM_ENDINGS)
    return f"{adjective} {noun}" if demonym and re.fullmatch(r"[a-z]+s", noun) else None


def _after(text: str, sentence: tuple[int, int], end: int) -> tuple[str | None, str | None, int]:
    """Recipient and funder named after the amount: "to Peru", "from Japan"."""
    recipient, funder, recipient_end = None, None, -1
    for m in _PREPOSITION_RE.finditer(text, end, min(sentence[1], end + 80)):
        if _CLAUSE_BREAK_RE.search(text, end, m.start()) or _AMOUNT_HINT_RE.search(
            text, end, m.start()
        ):
            break  # a comma, a relative pronoun or another amount: another clause
        if m["prep"] == "to" and text[m.end() : m.end() + 1].islower() and m.group()[-4:] != "the ":
            break  # "to enable growth in Peru": a purpose clause, not a recipient
        noun = _NOUN_RECIPIENT_RE.match(text, m.end(), sentence[1])
        found = _name_after(text, m.end(), sentence[1])
        if found:
            recipient = found[0]
            # with a phrase in between ("$5 million in grants to Peru"), that phrase is the what
            recipient_end = found[1] if m.start() == end else -1
            break
        if noun and m["prep"] in ("to", "for") and text[m.end() - 4 : m.end()] == "the ":
            recipient, recipient_end = "the " + noun["name"], noun.end()
            break
    f = _FUNDER_AFTER_RE.match(text, end, sentence[1])
    if f:
        found = _name_after(text, f.end(), sentence[1])
        funder = found[0] if found else None
    return recipient, funder, recipient_end


def _before(text: str, sentence: tuple[int, int], start: int) -> tuple[str | None, str | None]:
    """Funder (subject of a paying verb) and recipient (of a receiving verb, or the indirect
    object: "gave Peru $5 million") named before the amount."""
    verbs = [
        m for m in _VERB_RE.finditer(text, sentence[0], start) if _cue_ok(text, sentence[0], m)
    ]
    funder = recipient = None
    for m in reversed(verbs[-3:]):
        if _CLAUSE_BREAK_RE.search(text, m.end(), start) or start - m.end() > _MAX_VERB_GAP:
            break  # the verb belongs to another clause ("approved the plan, which ... $5m")
        name = _name_before(text, sentence[0], m.start())
        if name is None:
            continue
        if m["verb"].lower() in _RECEIVING:
            recipient = recipient or name
        else:
            funder = funder or name
        break
    if verbs and recipient is None:
        recipient = _indirect_object(text, verbs[-1].end(), start)
    return funder, recipient


_INDIRECT_RE = re.compile(r"\s+(?:(?:to|for)\s+)?(?:the\s+)?(?=[A-Z])")


def _indirect_object(text: str, verb_end: int, start: int) -> str | None:
    """ "gave Peru $5 million", "provided Kenya with £2m", "will provide to Peru the sum of
    S/ 185 million": a name between the paying verb and the amount receives it."""
    if start - verb_end > 60:
        return None
    m = _INDIRECT_RE.match(text, verb_end, start)
    found = _name_after(text, m.end(), start) if m else None
    if found is None:
        return None
    rest = text[found[1] : start]  # only a few linking words may follow the name
    return found[0] if re.fullmatch(r"\s*(?:with|the sum of|a total of|an?)?\s*", rest) else None


def parties(text: str, sentence: tuple[int, int], start: int, end: int, stage: str) -> Parties:
    """Funder and recipient of the amount at ``[start, end)`` (none for trade figures)."""
    if stage == "trade":
        return Parties(None, None)  # trade flows have partners, not a funder and a recipient
    recipient, funder, recipient_end = _after(text, sentence, end)
    funder_before, recipient_before = _before(text, sentence, start)
    return Parties(
        funder=funder_before or funder,
        recipient=recipient or recipient_before,
        recipient_end=recipient_end if recipient and recipient_end >= 0 else None,
    )
