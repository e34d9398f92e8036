"""Reading one layer of a layer-chain string, e.g. ``conv(16,k3,s1,relu,d0.0)`` or ``max_pool(k3,s2)``,
and the hidden fully connected layers after it, e.g. ``fc(64) > fc(32)``.

A layer is an op, then optionally its fields in parentheses. The fields are tagged,
so their order is free: a bare integer is the filters, ``k3`` the kernel, ``s2`` the
stride, ``d0.2`` the dropout and a name the activation. :func:`parse_layer` checks
them against a space's :class:`~nasviz.spaces.macro_choices.LayerChoices`.

A whole string is the chain's layers joined by ``" > "``, then, when the architecture
has hidden fully connected layers, ``" | "`` and those layers, ``fc(units)`` joined by
``" > "``: ``conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2) | fc(64) > fc(32)``.
:func:`parse_head` reads the part after ``"|"``.
"""

from __future__ import annotations

import re

from ..errors import InvalidArchitectureError
from .macro_choices import HeadChoices, LayerChoices
from .macro_layers import _APPLIES, MacroLayer

__all__ = ["HEAD_FORM", "parse_head", "parse_layer"]

_TOKEN = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$")
_FC_TOKEN = re.compile(r"^\s*fc\s*\(\s*([0-9]+)\s*\)\s*$")
#: How the hidden fully connected layers are written, for messages.
HEAD_FORM = "' | fc(64) > fc(32)' (fc(units) joined by ' > ', after ' | ')"


def parse_layer(part: str, where: str, choices: LayerChoices, example: str) -> MacroLayer:
    """The normalised layer that the text ``part`` names.

    ``where`` says where ``part`` is (for messages, e.g. ``"in layer 2 of '...'"``) and
    ``example`` is a whole chain string that messages show as a model.
    """
    match = _TOKEN.match(part)
    if not match:
        raise InvalidArchitectureError(
            f"malformed layer {part.strip()!r} {where}: expected 'op(...)' joined by ' > ', like {example!r}"
        )
    op, inner = match.group(1), match.group(2)
    choices.check_value("op", op, where)
    fields = _parse_fields(inner, where)
    missing = [f for f in _APPLIES[op] if f not in fields]
    if missing:
        raise InvalidArchitectureError(
            f"{op} {where} is missing its {', '.join(missing)}; write it like "
            f"{str(choices.example_layer(op))!r}"
        )
    return choices.normal_layer(op, **fields, where=where)


def _parse_fields(inner: str | None, where: str) -> dict[str, object]:
    """The tagged fields inside a layer's parentheses, by field name (values not yet checked)."""
    fields: dict[str, object] = {}
    tokens = [t.strip() for t in inner.split(",")] if inner is not None and inner.strip() else []
    for token in tokens:
        field, value = _parse_field(token, where)
        if field in fields:
            raise InvalidArchitectureError(f"{field} given twice ({token!r}) {where}")
        fields[field] = value
    return fields


def _parse_field(token: str, where: str) -> tuple[str, object]:
    if re.fullmatch(r"\d+", token):
        return "filters", int(token)
    if re.fullmatch(r"k\d+", token):
        return "kernel", int(token[1:])
    if re.fullmatch(r"s\d+", token):
        return "stride", int(token[1:])
    if re.fullmatch(r"d[0-9.].*", token):
        try:
            return "dropout", float(token[1:])
        except ValueError:
            raise InvalidArchitectureError(f"malformed dropout {token!r} {where}; write e.g. 'd0.2'") from None
    if re.fullmatch(r"[A-Za-z_]\w*", token):
        return "activation", token
    raise InvalidArchitectureError(
        f"malformed field {token!r} {where}: fields are filters (16), kernel (k3), stride (s1), "
        f"activation (relu) and dropout (d0.0)"
    )


def parse_head(part: str, text: str, head: HeadChoices) -> tuple[int, ...]:
    """The units of the hidden fully connected layers that ``part`` (what follows the
    ``"|"`` of the whole string ``text``) names, e.g. ``" fc(64) > fc(32)"`` -> ``(64, 32)``."""
    if not head.max_fc:
        raise InvalidArchitectureError(
            f"{text!r} has fully connected layers after '|', but this space has none (max_fc_layers=0); "
            f"offer them with nv.MacroSpace(max_fc_layers=...), or drop the '|' part"
        )
    if not part.strip():
        raise InvalidArchitectureError(
            f"nothing after '|' in {text!r}: write the fully connected layers like {HEAD_FORM}, or drop the '|' "
            f"for none"
        )
    units = []
    for i, token in enumerate(part.split(">"), start=1):
        match = _FC_TOKEN.match(token)
        if not match:
            raise InvalidArchitectureError(
                f"malformed fully connected layer {token.strip()!r} (fc layer {i}) of {text!r}: write them like "
                f"{HEAD_FORM}"
            )
        units.append(int(match.group(1)))
    return head.normal_head(units, text)
