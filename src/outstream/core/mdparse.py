"""Parsing the open part of a streamed Markdown answer again and again, at a cost that does not grow.

Theory of operation: every frame the open region is parsed again, but not all
of it, and not all of it in full. Its block structure comes from markdown-it's
block parser alone (cheap: a line is looked at once); the inline content of a
block (the text of a paragraph, of a table cell) is parsed when something
asks for it, and once per distinct text: a finished list item's paragraph is
parsed on the frame it appears in, then taken from a cache keyed by its text.
A long table or list is not parsed from its first line each frame either:
once its rows or items before the last one are final (a later row or item
has begun, and GFM tables and CommonMark lists parse a row or an item from
its own lines: markdown-it's ``table`` and ``list`` rules carry nothing from
one to the next but the column count and alignments, or the marker), the
parse resumes at the last one, and the tokens before it are kept
(`BlockParser.parse`).

The paragraph still being typed is parsed from a *cut* on: `parse_inline`
parses a piece of inline text and says where every top-level text token
starts in the source and how far the parse is settled — before the first
thing that text still to come could change: an emphasis delimiter that can
open and has no closer yet (CommonMark 6.2: a closer pairs with the nearest
open opener before it, so openers that are already paired stay paired), a
backtick string without its closing one (6.1), a ``[`` whose link is not
decided yet (6.3), a ``<`` that may still open an autolink or a raw HTML tag
(6.4, 6.5). Before that point nothing is open, so the text after it parses
the same on its own as in the whole (`MarkdownRenderer` uses that to parse and
render a paragraph's last lines only).

Parsing is markdown-it's own throughout, configured as rich's `Markdown`
configures it; only its inline tokenizing loop is repeated here
(`_tokenize`, ``ParserInline.tokenize``), to learn where tokens start.

Long (some 790 lines) for a reason: the block parser, the inline parser and
the optimistic closing of inline markers (`closed_inline`) share the open
region's caches of what is final; apart, each would reach into the others'.
"""

from __future__ import annotations

import re
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

    from .escapes import EscapePolicy

__all__ = ["BlockParser", "InlineParse", "closed_inline", "new_parser", "parse_inline"]

_MAX_INLINE_CACHE = 4096  # distinct inline texts kept (the open region's, more or less)


def new_parser(escapes: EscapePolicy = "strip") -> MarkdownIt:
    """A markdown-it parser configured exactly as rich's `Markdown` configures its own,
    and one rule more: what its inline parse decodes (character references: ``&#x202E;``)
    goes through the `escapes` policy, as the text did before it (`escapes.neutralized`)."""
    from markdown_it import MarkdownIt

    # rich.markdown.Markdown.__init__: MarkdownIt().enable("strikethrough").enable("table")
    md = MarkdownIt().enable("strikethrough").enable("table")
    md.core.ruler.push("outstream_kbd", _balance_kbd)
    if escapes != "raw":
        md.core.ruler.push("outstream_neutralize", _neutralizing(escapes))
    return md


def _balance_kbd(state: Any) -> None:
    """Drop each ``</kbd>`` that closes no ``<kbd>`` of its inline text.

    rich leaves a style at ``</kbd>`` whatever it entered last (its
    ``Markdown.__rich_console__``): one with nothing to close takes the
    style of the block around it, and rich fails (IndexError) when it leaves
    that block. Crafted text must not stop the stream; the tag itself is
    never drawn.
    """
    for holder in state.tokens:
        children = holder.children
        if not children:
            continue
        depth = 0
        unmatched = []
        for i, token in enumerate(children):
            if token.type == "html_inline":
                if token.content == "<kbd>":
                    depth += 1
                elif token.content == "</kbd>":
                    if depth:
                        depth -= 1
                    else:
                        unmatched.append(i)
        for i in reversed(unmatched):
            del children[i]


def _neutralizing(policy: EscapePolicy) -> Callable[[Any], None]:
    from .escapes import neutralized

    def neutralize(state: Any) -> None:
        """Every text an inline token holds, and its attributes (a link's URL and title)."""
        tokens = list(state.tokens)
        while tokens:
            token = tokens.pop()
            if token.content:
                token.content = neutralized(token.content, policy)
            if token.attrs:
                for name, value in token.attrs.items():
                    if isinstance(value, str):
                        token.attrs[name] = neutralized(value, policy)
            if token.children:
                tokens += token.children

    return neutralize


# --- inline ---


@dataclass(slots=True)
class InlineParse:
    """An inline text parsed, with what is known of where its tokens came from.

    Attributes:
        children: the tokens, as markdown-it gives them for this text.
        settled: how many characters from the start no text still to come can
            change the parse of (the whole text when nothing is pending).
    """

    children: list[Token]
    settled: int


_POST_INLINE: dict[int, tuple[MarkdownIt, list[Callable[[Any], None]]]] = {}


def _post_inline_rules(md: MarkdownIt) -> list[Callable[[Any], None]]:
    """The core rules markdown-it runs after parsing inline content (text_join among them)."""
    seen = _POST_INLINE.get(id(md))
    if seen is not None and seen[0] is md:
        return seen[1]
    from markdown_it.rules_core import inline

    rules = md.core.ruler.getRules("")
    after = rules[rules.index(inline) + 1 :] if inline in rules else []
    _POST_INLINE[id(md)] = (md, after)
    return after


def _finish_children(md: MarkdownIt, children: list[Token], env: MutableMapping[str, Any]) -> None:
    """Run the core rules that follow the inline parse (``text_join``...) on one inline token's children."""
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token

    holder = Token("inline", "", 0, children=children)
    state = StateCore("", md, env)
    state.tokens = [holder]
    for rule in _post_inline_rules(md):
        rule(state)
    children[:] = holder.children or []


# The characters at which one of rich's parser's inline rules can match
# (markdown-it's newline, escape, backticks, strikethrough, emphasis, link,
# image, autolink, html_inline and entity rules): text without any of them is
# one text token, and its parse can be skipped.
_PLAIN = re.compile(r"[^\n!&*<\[\\_`~]*")


def _plain_text(md: MarkdownIt, text: str) -> Token | None:
    """The one text token markdown-it makes of `text` when no inline rule can match in it."""
    if md.options.get("linkify") or md.options.get("typographer") or not _PLAIN.fullmatch(text):
        return None
    from markdown_it.token import Token

    return Token("text", "", 0, content=text)


def inline_children(md: MarkdownIt, text: str, env: MutableMapping[str, Any]) -> list[Token]:
    """The tokens of one inline text, as ``MarkdownIt.parse`` gives them for it."""
    if not text:
        return []
    plain = _plain_text(md, text)
    if plain is not None:
        return [plain]
    children: list[Token] = []
    md.inline.parse(text, md, env, children)
    _finish_children(md, children, env)
    return children


def _state_class() -> type[StateInline]:
    from markdown_it.rules_inline import StateInline

    class _State(StateInline):
        """An inline state that stamps each piece of pending text with where it began."""

        pending_at = 0

        def pushPending(self) -> Token:  # markdown-it's name
            token = super().pushPending()
            token.meta = {"at": self.pending_at}
            return token

    return _State


_STATE: type[StateInline] | None = None


def _tokenize(md: MarkdownIt, state: Any) -> None:
    """``ParserInline.tokenize`` (markdown-it-py, MIT), stamping top-level tokens with their offset.

    Each token pushed at the top level gets ``meta["at"]``: where the rule
    that pushed it started (emphasis delimiters one character after another),
    or, for a piece of literal text, where that text began.
    """
    rules = md.inline.ruler.getRules("")
    end = state.posMax
    max_nesting = md.options["maxNesting"]
    tokens = state.tokens
    while state.pos < end:
        pos = state.pos
        n_before = len(tokens)
        had_pending = bool(state.pending)
        ok = False
        if state.level < max_nesting:
            for rule in rules:
                ok = rule(state, False)
                if ok:
                    if state.pos <= pos:
                        raise RuntimeError("inline rule didn't increment state.pos")
                    break
        if ok:
            at = pos
            for token in tokens[n_before:]:
                if "at" not in token.meta:
                    token.meta = {"at": at}
                    if token.type == "text":
                        at += len(token.content)
            if state.pending and (not had_pending or len(tokens) > n_before):
                state.pending_at = pos
            if state.pos >= end:
                break
            continue
        if not had_pending:
            state.pending_at = pos
        state.pending += state.src[pos]
        state.pos += 1
    if state.pending:
        state.pushPending()


def _label_settled(src: str, at: int) -> bool:
    """Whether a literal ``[`` at `at` stays literal whatever follows.

    True when a plain label closes it (``[1]``: nothing inside that
    markdown-it's label parser would skip or nest) and the character after
    the ``]`` is there and starts neither a destination nor a reference
    label. A shortcut reference that is not defined stays text; the
    definitions in force are part of what the caller's cache keys hold.
    """
    close = at + 1
    n = len(src)
    while close < n and src[close] not in "[]`<\\":
        close += 1
    return close + 1 < n and src[close] == "]" and src[close + 1] not in "(["


def parse_inline(md: MarkdownIt, src: str, env: MutableMapping[str, Any]) -> InlineParse:
    """Parse inline text as markdown-it does, noting where top-level text tokens start.

    In the result, a top-level ``text`` token whose characters are those of
    the source, one for one, from some offset on, has that offset in
    ``meta["at"]``, and so does a top-level code span, break, link or
    emphasis, where it starts; `InlineParse.settled` says how far the parse
    is final.
    """
    plain = _plain_text(md, src) if src else None
    if plain is None:
        return _parse_inline(md, src, env)
    # One text token, the source's own characters; only its last word can change.
    plain.meta = {"at": 0}
    return InlineParse(children=[plain], settled=_last_word(src))


def _last_word(src: str) -> int:
    """Where the last word of `src` starts (its end when it ends with a space)."""
    last_word = len(src.rstrip())
    while last_word and not src[last_word - 1].isspace():
        last_word -= 1
    return last_word


def _parse_inline(md: MarkdownIt, src: str, env: MutableMapping[str, Any]) -> InlineParse:
    """`parse_inline`, by markdown-it's rules."""
    from markdown_it.rules_inline import fragments_join

    global _STATE
    if _STATE is None:
        _STATE = _state_class()
    raw: list[Token] = []
    state: Any = _STATE(src, md, env, raw)
    _tokenize(md, state)
    delimiter_at = [raw[d.token].meta.get("at", 0) for d in state.delimiters]
    for rule in md.inline.ruler2.getRules(""):
        if rule is not fragments_join:
            rule(state)
    # The last word is not final: a character more can change how its
    # delimiters flank (CommonMark 6.2: "_a_" then "b" closes nothing), a
    # backtick string in it may grow, an entity or escape may complete.
    # Nor is what a delimiter in it closes, nor a code span ending in it.
    last_word = _last_word(src)
    settled = last_word
    for d, at in zip(state.delimiters, delimiter_at, strict=True):
        # An opener with no closer yet (balance_pairs.py), or closed in the last word.
        if (d.open and d.end < 0) or (d.end >= 0 and delimiter_at[d.end] >= last_word):
            settled = min(settled, at)
    for i, token in enumerate(raw):
        if token.type == "code_inline" and token.level == 0:
            ends = raw[i + 1].meta.get("at", len(src)) if i + 1 < len(raw) else len(src)
            if ends >= last_word:
                settled = min(settled, token.meta.get("at", 0))
    # Runs of text pieces become one token (fragments_join, then text_join):
    # a run keeps its offset if each piece is the source's own characters,
    # one after the other.
    # A run's offset is its first non-empty piece's (an emphasis delimiter
    # used for <strong> leaves an empty one behind).
    runs: list[list[Any]] = []  # for each token once joined: [offset, exact, end]
    prev_text = False
    # Token levels are not set yet (_finish_children does it): the depth is
    # counted here, and `top` is where the top-level construct around a
    # nested token starts, at the latest.
    depth = top = 0
    for token in raw:
        textual = token.type in ("text", "text_special")
        at = token.meta.get("at", -1) if token.meta else -1
        exact = token.type == "text" and at >= 0 and src.startswith(token.content, at)
        if depth == 0 and token.nesting == 1:
            top = max(at - len(token.markup), 0)
        depth += token.nesting
        if token.type == "text" and depth == 0:
            pending = _pending_in_text(src, token.content, at) if exact else max(at, 0)
            settled = min(settled, pending)
        elif token.type == "text" and settled > top:
            # Inside emphasis or a link: a backtick string, "[" or "<" there
            # that a later text may still close can undo what is around it
            # ("*`* word" then "`": the code span takes the emphasis's closer).
            if exact:
                pending = _pending_in_text(src, token.content, at) < len(src)
            else:  # a link's text, whose offsets are not noted: judged by its characters
                pending = any(c in token.content for c in "`[<")
            if pending:
                settled = top
        elif token.type == "html_inline" and token.content in ("<kbd>", "</kbd>"):
            settled = min(settled, max(at, 0))  # rich styles the text between them
        elif token.type == "image":
            settled = min(settled, max(at, 0))  # rich draws an image apart from its paragraph
        if not (textual and prev_text):
            runs.append([-1, True, -1])
        run = runs[-1]
        if not exact:
            run[1] = False
        elif token.content:
            if run[0] < 0:
                run[0] = at
            elif at != run[2]:
                run[1] = False
            run[2] = at + len(token.content)
        prev_text = textual
    fragments_join(state)
    _finish_children(md, raw, env)
    if len(raw) == len(runs):
        for token, (at, exact, _) in zip(raw, runs, strict=True):
            if token.type == "text" and token.level == 0 and exact and at >= 0:
                token.meta = {"at": at}
            elif token.level == 0 and token.type in _STARTS_KNOWN and "at" in token.meta:
                token.meta = {"at": token.meta["at"]}
            elif token.level == 0 and token.type in _OPENERS and "at" in token.meta:
                start = _opener_start(src, token)
                token.meta = {} if start is None else {"at": start}
            elif token.meta:
                token.meta = {}
    else:  # not the tokens expected: claim nothing about them
        for token in raw:
            token.meta = {}
        settled = 0
    return InlineParse(children=raw, settled=settled)


# Top-level tokens whose offset in the source is where their rule started.
_STARTS_KNOWN = frozenset({"code_inline", "link_open", "softbreak", "hardbreak"})
_OPENERS = frozenset({"em_open", "strong_open", "s_open"})


def _opener_start(src: str, token: Token) -> int | None:
    """Where the delimiters of a top-level emphasis start, when they are a whole run.

    markdown-it turns one delimiter token into the opening tag: for
    emphasis, of the characters a ``**`` run gives, the inner one (the
    outer is left an empty text: rules_inline/emphasis.py); for
    strikethrough, the ``~~`` token. When the run holds more delimiters
    than the tag took, where the construct starts is not this simple: None.
    """
    markup = token.markup
    at = int(token.meta["at"])
    start = at - (len(markup) - 1) if token.type != "s_open" else at
    end = start + len(markup)
    if (
        start < 0
        or src[start:end] != markup
        or src[start - 1 : start] == markup[:1]
        or src[end : end + 1] == markup[:1]
    ):
        return None
    return start


def _pending_in_text(src: str, text: str, at: int) -> int:
    """Where, in literal text at `at`, begins something that a later text may turn into markup.

    The source's length when there is nothing of the kind.
    """
    found = len(src)
    i = text.find("`")
    if i >= 0:
        found = at + i  # a backtick string without a closer: a later one may close it
    i = text.find("[")
    while i >= 0 and at + i < found:
        if not _label_settled(src, at + i):
            found = at + i
            break
        i = text.find("[", i + 1)
    i = text.find("<")
    while i >= 0 and at + i < found:
        if not _angle_settled(src, at + i):
            found = at + i  # may still become an autolink or an HTML tag
            break
        i = text.find("<", i + 1)
    return found


def _angle_settled(src: str, at: int) -> bool:
    """Whether a literal ``<`` at `at` stays literal whatever follows.

    An HTML tag starts ``<`` and a letter, ``/``, ``!`` or ``?`` (CommonMark
    6.6); an autolink holds no space and ends at the first ``>`` (6.5). So
    a ``<`` followed by none of those is decided once a space or a ``>``
    follows it.
    """
    after = src[at + 1 : at + 2]
    if not after or after.isalpha() or after in "/!?":
        return False
    rest = src[at + 1 :]
    return ">" in rest or any(ch.isspace() for ch in rest)


# --- blocks ---


@dataclass(slots=True)
class _Checkpoint:
    """Where the parse of a long table or list resumes: its last row or item.

    The tokens before it are kept; the text from it on is parsed after
    `head` (a table's header and delimiter rows, which give the columns),
    and its tokens are shifted to where they are in the open region.
    """

    kind: str  # the block's open token type
    prefix: str  # the open region up to the resume line
    line: int  # the resume line
    head: str  # text parsed before the rest
    tokens: list[Token]  # the block's tokens before the resume line


class BlockParser:
    """The block tokens of the open region, frame after frame, and inline content parsed once.

    Args:
        md: the parser (see `new_parser`).
    """

    def __init__(self, md: MarkdownIt) -> None:
        self.md = md
        self._inline: dict[tuple[str, Any], list[Token]] = {}
        self._checkpoint: _Checkpoint | None = None
        self.n_chars_parsed = 0  # source characters parsed (blocks and inline), for tests

    def parse(self, source: str, env: MutableMapping[str, Any]) -> list[Token]:
        """Block tokens of `source`; inline tokens' children are filled by `children`.

        `source` is the open region: each call's starts with the last one's,
        unless `forget` was called in between.
        """
        source = source.replace("\0", "\ufffd")  # markdown-it's normalize rule
        checkpoint = self._checkpoint
        resumed = None
        if checkpoint is not None and source.startswith(checkpoint.prefix):
            resumed = self._resume(checkpoint, source, env)
        if resumed is None:
            tokens: list[Token] = []
            self.n_chars_parsed += len(source)
            self.md.block.parse(source, self.md, env, tokens)
            self._checkpoint = _checkpoint(tokens, source)
            return tokens
        tokens, n_new = resumed
        if n_new > 1:  # rows or items after the resume line: it moves on
            self._checkpoint = _checkpoint(tokens, source) or checkpoint
        return tokens

    def _resume(
        self, checkpoint: _Checkpoint, source: str, env: MutableMapping[str, Any]
    ) -> tuple[list[Token], int] | None:
        """The tokens of `source`, parsed from `checkpoint`; and how many rows or items that gave."""
        rest = checkpoint.head + source[len(checkpoint.prefix) :]
        self.n_chars_parsed += len(rest)
        first = checkpoint.tokens[0]
        tail = _table_rows(checkpoint.tokens, rest) if first.type == "table_open" else None
        if tail is None:
            tail = []
            self.md.block.parse(rest, self.md, env, tail)
        if not tail or tail[0].type != first.type or tail[0].markup != first.markup:
            self._checkpoint = None  # the resume line is not a row or item of it any more
            return None
        shift = checkpoint.line - checkpoint.head.count("\n")
        for token in tail:
            if token.map is not None:
                token.map = [line + shift for line in token.map]
        close = next(i for i, t in enumerate(tail) if t.level == 0 and t.nesting == -1)
        parts = tail[1:close]
        if first.type == "table_open":
            # The rows after the header that the text was parsed with.
            body = [i for i, t in enumerate(parts) if t.type == "tbody_open"]
            parts = parts[body[0] + 1 : -1] if body else []
            n_new = sum(1 for t in parts if t.type == "tr_open")
            parts.append(_token("tbody_close", "tbody", -1, 1))
        else:
            n_new = sum(1 for t in parts if t.type == "list_item_open" and t.level == 1)
        assert first.map is not None and tail[0].map is not None
        end = tail[0].map[1]
        kept = [first.copy(map=[first.map[0], end]), *checkpoint.tokens[1:]]
        if first.type == "table_open":  # its body ends where the table does
            for i, token in enumerate(kept):
                if token.type == "tbody_open" and token.map is not None:
                    kept[i] = token.copy(map=[token.map[0], end])
                    break
        return [*kept, *parts, *tail[close:]], n_new

    def children(self, token: Token, env: MutableMapping[str, Any], refs: Any) -> list[Token]:
        """The inline tokens of `token` (an ``inline`` token), parsed once per text and definitions."""
        key = (token.content, refs)
        children = self._inline.get(key)
        if children is None:
            if len(self._inline) >= _MAX_INLINE_CACHE:
                self._inline.clear()
            self.n_chars_parsed += len(token.content)
            children = inline_children(self.md, token.content, env)
            self._inline[key] = children
        token.children = children
        return children

    def fill(self, tokens: list[Token], env: MutableMapping[str, Any], refs: Any) -> None:
        """Parse the inline content of every inline token in `tokens` not parsed yet."""
        for token in tokens:
            if token.type == "inline" and not token.children:
                self.children(token, env, refs)

    def forget(self) -> None:
        """The open region was cut: what was cached for it is of no more use."""
        self._inline.clear()
        self._checkpoint = None


_MAX_AUTOCOMPLETED_CELLS = 0x10000  # markdown-it's rules_block/table.py


def _table_rows(kept: list[Token], rest: str) -> list[Token] | None:
    """markdown-it's tokens for a table's header and delimiter rows then `rest`'s rows.

    Those of its ``table`` rule (rules_block/table.py), less the header's
    (which `_resume` takes from the `kept` tokens): the body rows, each line
    cut at its unescaped pipes (``escapedSplit``), as many cells as the
    header has, aligned as its columns. None unless every line after the
    head starts with a pipe: such a line is a row (no rule that ends a
    table starts with one, and it is not indented), anything else is left
    to markdown-it.
    """
    lines = rest.split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline ending the last line
    body = lines[2:]
    if not body or any(not line.startswith("|") for line in body):
        return None
    aligns = table_aligns(kept)
    out = [
        _token("table_open", "table", 1, 0, map=[0, len(lines)]),
        _token("tbody_open", "tbody", 1, 1, map=[2, len(lines)]),
    ]
    autocompleted = 0
    for number, line in enumerate(body, 2):
        row, n_missing = table_row(line, number, aligns)
        autocompleted += n_missing
        if autocompleted > _MAX_AUTOCOMPLETED_CELLS:
            return None
        out += row
    out.append(_token("tbody_close", "tbody", -1, 1))
    out.append(_token("table_close", "table", -1, 0))
    return out


def table_aligns(tokens: list[Token]) -> list[str]:
    """The alignment of each column of a table (``""``: none), from its header's tokens."""
    aligns = []
    for token in tokens:
        if token.type == "th_open":
            style = str(token.attrs.get("style", ""))
            aligns.append(style.removeprefix("text-align:"))
        elif token.type == "thead_close":
            break
    return aligns


def table_row(line: str, number: int, aligns: list[str]) -> tuple[list[Token], int]:
    """markdown-it's tokens for a table's body row (``tr_open`` to ``tr_close``).

    `line` (starting with a pipe) is line `number` of the source; `aligns`
    are the header's columns (`table_aligns`). Also returns how many cells
    the header has that the line lacks (markdown-it counts them, to give up
    on a table that would make too many).
    """
    from markdown_it.common.utils import mdTrim
    from markdown_it.rules_block.table import escapedSplit

    columns = escapedSplit(mdTrim(line))
    if columns and columns[0] == "":
        columns.pop(0)
    if columns and columns[-1] == "":
        columns.pop()
    row = [_token("tr_open", "tr", 1, 2, map=[number, number + 1])]
    for i, align in enumerate(aligns):
        cell = _token("td_open", "td", 1, 3)
        if align:
            cell.attrs = {"style": "text-align:" + align}
        inline = _token("inline", "", 0, 4, map=[number, number + 1])
        inline.content = mdTrim(columns[i]) if i < len(columns) and columns[i] else ""
        inline.children = []
        row += [cell, inline, _token("td_close", "td", -1, 3)]
    row.append(_token("tr_close", "tr", -1, 2))
    return row, len(aligns) - len(columns)


def _token(kind: str, tag: str, nesting: Any, level: int, map: list[int] | None = None) -> Token:
    """A block token (as StateBlock.push makes them)."""
    from markdown_it.token import Token

    return Token(kind, tag, nesting, level=level, block=True, map=map)


def _checkpoint(tokens: list[Token], source: str) -> _Checkpoint | None:
    """Where to resume the parse next time: the last row or item of a long first block.

    A GFM table row or a list item (at the top level) is parsed from its own
    lines (markdown-it's ``table`` and ``list`` rules): the rows or items
    before the last one are final once the last has begun, and parsing from
    the last one's line gives the same tokens for it and what follows,
    shifted — a table's given its header and delimiter rows first. Only the
    looseness of a list differs, which marks paragraphs ``hidden`` and which
    rich does not look at.
    """
    if not tokens or tokens[0].type not in ("table_open", "bullet_list_open", "ordered_list_open"):
        return None
    first = tokens[0]
    end = next(i for i, t in enumerate(tokens) if t.level == 0 and t.nesting == -1)
    if first.type == "table_open":
        starts = [i for i in range(end) if tokens[i].type == "tr_open" and tokens[i].level == 2]
        if len(starts) < 3 or len(starts) * len(tokens[starts[0] : starts[1]]) > 0xF000:
            # The header and two rows at least; markdown-it counts missing
            # cells over a whole table (MAX_AUTOCOMPLETED_CELLS): far from it.
            return None
        header = first.map
    else:
        starts = [
            i for i in range(end) if tokens[i].type == "list_item_open" and tokens[i].level == 1
        ]
        if len(starts) < 2:
            return None
        header = None
    resume = starts[-1]
    line = tokens[resume].map[0]  # type: ignore[index]
    lines = source.split("\n", line)
    if len(lines) <= line:
        return None
    prefix = source[: len(source) - len(lines[line])]
    if "]:" in prefix:  # a link reference definition in it would be lost (CommonMark 4.7)
        return None
    head = ""
    if header is not None:
        start = first.map[0]  # type: ignore[index]
        head = "".join(f"{text}\n" for text in lines[start : start + 2])
    return _Checkpoint(first.type, prefix, line, head, tokens[:resume])


# --- optimistic closing of what an open paragraph has opened ---

# A backslash escape, a run of backticks, or a run of emphasis delimiters.
_INLINE_MARK = re.compile(r"\\.|(`+)|(\*+|_+|~~+)")
_OPEN_LINK = re.compile(r"(?<!\\)\[[^\]\[]*\]\([^)\s]*$")  # [text](destination, unclosed


def _punct(char: str) -> bool:
    """A Unicode punctuation or symbol character (CommonMark's definition)."""
    import unicodedata

    return unicodedata.category(char)[0] in "PS"


def closed_inline(src: str) -> tuple[str, int, int] | None:
    """`src` with the emphasis, strikethrough and code spans it leaves open closed at its end.

    While a paragraph streams, ``sends **fifty at onc`` would show its
    ``**`` until the closer comes, and then the line would move two cells
    to the left. Drawn as if it were closed (as remend and
    streaming-markdown do), the text is bold at once and stays where it is;
    a link whose destination is coming is drawn as a link to what came.
    An opener with nothing after it yet is left out. Delimiter runs are
    matched as CommonMark 6.2 does, simplified: whether a run can open or
    close follows its flanking (spaces and punctuation on either side; ``_``
    inside a word does neither), a closer takes from the nearest opener of
    its character, and a code span's backticks close only with a run as
    long.

    Returns:
        The text to draw; how much of it is `src`'s own (the closers follow);
        and where the first opener left open is (nothing from there on is
        settled). None when nothing is left open.
    """
    body = src.rstrip()
    stack: list[list[Any]] = []  # [run character, length left, where], innermost last
    trailing = len(body)  # where a run that ends the text and closes nothing starts
    for match in _INLINE_MARK.finditer(body):
        ticks, run = match.group(1), match.group(2)
        in_code = bool(stack) and stack[-1][0] == "`"
        if ticks is not None:
            if in_code and stack[-1][1] == len(ticks):
                stack.pop()
            elif not in_code:
                stack.append(["`", len(ticks), match.start()])
            continue
        if run is None or in_code:
            continue
        start, end = match.start(), match.end()
        before = body[start - 1] if start else " "
        after = body[end] if end < len(body) else " "
        char, n = run[0], len(run)
        # Flanking (CommonMark 6.2): punctuation next to a run counts as a space
        # on its other side: `file*.txt` opens nothing.
        left = not after.isspace() and (not _punct(after) or before.isspace() or _punct(before))
        right = not before.isspace() and (not _punct(before) or after.isspace() or _punct(after))
        can_open = left and not (char == "_" and right and not _punct(before))
        can_close = right and not (char == "_" and left and not _punct(after))
        while n and can_close:
            at = next((i for i in range(len(stack) - 1, -1, -1) if stack[i][0] == char), None)
            if at is None:
                break
            del stack[at + 1 :]  # openers between them stay text
            taken = min(n, stack[at][1], 2 if char != "~" else n)
            stack[at][1] -= taken
            n -= taken
            if not stack[at][1]:
                stack.pop()
        if n and end == len(body) and not can_open:
            trailing = start + len(run) - n  # which it is, the next text says
        elif n and can_open:
            stack.append([char, n, start + len(run) - n])
    link = None if stack and stack[-1][0] == "`" else _OPEN_LINK.search(body)
    if link is not None:
        # A link whose destination is coming: drawn as its text and the
        # destination so far; what opened in it is not counted.
        stack = [entry for entry in stack if entry[2] < link.start()]
        trailing = len(body)
    elif stack and stack[-1][2] + stack[-1][1] == len(body):
        trailing = stack.pop()[2]  # an opener with nothing after it yet
    if not stack and trailing == len(body) and link is None:
        return None
    own = body[:trailing].rstrip()  # markdown-it trims a paragraph's end
    closers = (")" if link else "") + "".join(char * n for char, n, _ in reversed(stack))
    first_open = min(
        [entry[2] for entry in stack] + ([link.start()] if link else []), default=len(own)
    )
    return own + closers, len(own), first_open
