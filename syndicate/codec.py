"""Cached values as data: JSON that can describe only plain values and syndicate's own
frozen dataclasses, so reading a cache can never run code.

The cache may come from elsewhere (CI restores it from shared storage), so it is read as
untrusted input. Pickle would call whatever a crafted file names; this format names
classes too, but a name is only looked up among the dataclasses of syndicate's own
modules, the object is made without calling anything of the class, and every field is
checked against the class's annotations on the way in. A value that does not fit is a
`CodecError`, which the cache treats as a miss. (Authenticating pickles instead would
need a key the restored cache cannot carry, and then a cache restored on a new machine
could never be read: data is the simpler trust boundary. The one exception is the plan
kept for a fresh process's one-article edit, which a new machine could never use anyway:
cache.py signs it.)

Every JSON array starts with a tag: `["t", ...]` tuple, `["l", ...]` list, `["m", k, v,
...]` mapping with keys that are not text, `["dt", iso, null]` or `["dt", wall time, zone,
fold]` datetime, `["da", iso]` date, `["p", text]` path, `["b", base64]` bytes, `["fs", ...]`
frozenset, `["A", id, identity]` an author of site.yaml by reference (its id and a hash of all
its fields: ten thousand cached articles of four authors decode four Author objects, and a
reference to an author site.yaml no longer has, or has changed, is a miss, never a wrong
author), `["@module:Class", field, ...]` a dataclass, fields in order, and `["r", n]` the
n-th dataclass object of the same value again, numbered as each one's decoding completes (an
article in the listing, among its neighbours and in its tags is written once, and read back
as one object). A JSON object is a mapping with text keys.

A `Codec` knows the authors of one site.yaml (the cache makes one per build); the module's
`encode` and `decode` serve values that hold no author (a Markdown body in a worker).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from functools import cache
from itertools import chain
from operator import itemgetter
from pathlib import Path, PurePath
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo

from .model import Author

Decoder = Callable[[Any], Any]
_PLAIN = frozenset({str, int, float, bool, type(None)})  # JSON values that decode as themselves
_FIRST, _REST = itemgetter(0), itemgetter(slice(1, None))


class CodecError(ValueError):
    """The bytes are not a value this version of syndicate wrote."""


def author_identity(author: Author) -> str:
    return hashlib.blake2b(repr(author).encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def encode(value: object) -> bytes:
    """A value that holds no author (an author is written by reference: see `Codec`)."""
    return Codec().encode(value)


def decode(data: bytes) -> Any:
    return Codec().decode(data)


def _fail(expected: str, value: Any) -> Any:
    raise CodecError(f"expected {expected}, found {type(value).__name__}")


def _tagged(value: Any, tag: str) -> list[Any]:
    if type(value) is not list or not value or value[0] != tag:
        _fail(f"['{tag}', ...]", value)
    return value  # type: ignore[no-any-return]


class Codec:
    """Encodes and decodes values, with the authors of one site.yaml known by reference."""

    def __init__(self, authors: Iterable[Author] = ()) -> None:
        self._refs = {author: (author.id, author_identity(author)) for author in authors}
        self._authors = {ref: author for author, ref in self._refs.items()}
        self._decoders: dict[Any, Decoder] = {}
        self._layouts: dict[type, tuple[tuple[str, ...], tuple[Decoder, ...] | None, bool]] = {}
        self._seen: dict[int, int] = {}  # while encoding: id of each dataclass instance written -> its number
        self._kept: list[Any] = []  # while encoding, those instances (alive, so ids stay theirs); while decoding, those made
        self._scalars: Mapping[str, Decoder] = {"dt": _datetime, "da": _date, "p": _path, "b": _bytes,
                                                "A": self._author, "fs": self._frozenset}

    def encode(self, value: object) -> bytes:
        try:
            return json.dumps(self._plain(value), ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
        finally:
            self._seen, self._kept = {}, []

    def decode(self, data: bytes) -> Any:
        """The value, or CodecError for anything damaged, foreign or shaped unlike our types."""
        try:
            return self._any(json.loads(data.decode("utf-8", "surrogatepass")))
        except CodecError:
            raise
        except (ValueError, TypeError, LookupError, RecursionError, OverflowError, AttributeError) as exc:
            raise CodecError(str(exc)) from None
        finally:
            self._kept = []

    def _plain(self, value: object) -> Any:
        kind: Any = type(value)
        if value is None or kind in (str, int, float, bool):
            return value
        plain = self._plain
        if kind is tuple:
            return ["t", *map(plain, value)]  # type: ignore[call-overload]
        if kind is list:
            return ["l", *map(plain, value)]  # type: ignore[call-overload]
        if kind is frozenset:
            return ["fs", *map(plain, sorted(value, key=repr))]  # type: ignore[call-overload]
        if isinstance(value, Mapping):
            if all(type(key) is str for key in value):
                items = list(value.values())
                if set(map(type, items)) == {tuple} and set(map(type, chain.from_iterable(items))) <= _PLAIN:
                    return {key: ["t", *item] for key, item in value.items()}  # a manifest: no call per value
                return {key: plain(item) for key, item in value.items()}
            return ["m", *(part for key, item in value.items() for part in (plain(key), plain(item)))]
        if kind is datetime:
            assert isinstance(value, datetime)
            if isinstance(value.tzinfo, ZoneInfo) and value.tzinfo.key:  # wall time, zone and fold: exact even in a DST gap
                return ["dt", value.replace(tzinfo=None).isoformat(), value.tzinfo.key, value.fold]
            return ["dt", value.isoformat(), None]
        if kind is date:
            assert isinstance(value, date)
            return ["da", value.isoformat()]
        if isinstance(value, PurePath):
            return ["p", str(value)]
        if kind is bytes:
            assert isinstance(value, bytes)
            return ["b", base64.b64encode(value).decode("ascii")]
        if kind is Author:
            assert isinstance(value, Author)
            ref = self._refs.get(value) or (value.id, author_identity(value))
            return ["A", *ref]
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            number = self._seen.get(id(value))
            if number is not None:
                return ["r", number]  # written before: an article in the listing, its neighbours and its tags is one object
            names = _field_names(kind)
            encoded = [f"@{kind.__module__}:{kind.__qualname__}", *(plain(getattr(value, name)) for name in names)]
            self._seen[id(value)] = len(self._kept)  # numbered once its fields are written, as decoding makes it
            self._kept.append(value)
            return encoded
        raise TypeError(f"cannot cache a {kind.__name__}")

    def _any(self, value: Any) -> Any:
        """Any value, by its tags; dataclass fields are still checked against their annotations."""
        kind: Any = type(value)
        if value is None or kind in _PLAIN:
            return value
        if kind is dict:
            kinds = set(map(type, value.values()))
            if kinds <= _PLAIN:
                return value
            items = list(value.values())
            if kinds == {list} and set(map(_FIRST, items)) == {"t"} and set(map(type, chain.from_iterable(items))) <= _PLAIN:
                return dict(zip(value, map(tuple, map(_REST, items)), strict=True))  # tuples of plain values, in C: a manifest
            return {key: self._any(item) for key, item in value.items()}
        if kind is not list or not value or type(value[0]) is not str:
            return _fail("a tagged array", value)
        tag = value[0]
        if tag == "t":
            items = value[1:]
            return tuple(items) if set(map(type, items)) <= _PLAIN else tuple(map(self._any, items))
        if tag == "l":
            items = value[1:]
            return items if set(map(type, items)) <= _PLAIN else list(map(self._any, items))
        if tag == "m":
            if len(value) % 2 != 1:
                return _fail("key and value pairs", value)
            return {self._any(value[i]): self._any(value[i + 1]) for i in range(1, len(value), 2)}
        decoder = self._scalars.get(tag)
        if decoder is not None:
            return decoder(value)
        if tag.startswith("@"):
            return self._instance(_class(tag[1:]), value)
        if tag == "r":
            return self._reference(value, object)
        return _fail("a known tag", tag)

    def _author(self, value: Any) -> Author:
        _tagged(value, "A")
        if len(value) != 3 or type(value[1]) is not str or type(value[2]) is not str:
            _fail("['A', id, identity]", value)
        try:
            return self._authors[value[1], value[2]]
        except KeyError:
            raise CodecError(f"author '{value[1]}' is not in site.yaml as it was") from None

    def _frozenset(self, value: Any) -> frozenset[Any]:
        return frozenset(map(self._any, _tagged(value, "fs")[1:]))

    def _layout(self, cls: Any) -> tuple[tuple[str, ...], tuple[Decoder, ...] | None, bool]:
        """Field names, a decoder per field (None when an annotation has no decoder), slots."""
        found = self._layouts.get(cls)
        if found is None:
            names = _field_names(cls)
            try:
                hints = _hints(cls)
                decoders: tuple[Decoder, ...] | None = tuple(self._decoder(hints[name]) for name in names)
            except (NameError, TypeError, CodecError):
                decoders = None
            found = self._layouts[cls] = (names, decoders, "__slots__" in cls.__dict__)
        return found

    def _reference(self, value: list[Any], cls: type) -> Any:
        """An instance decoded earlier in the same value, by its number, of the class expected."""
        if len(value) != 2 or type(value[1]) is not int or not 0 <= value[1] < len(self._kept):
            return _fail("['r', number of an earlier object]", value)
        found = self._kept[value[1]]
        return found if isinstance(found, cls) else _fail(cls.__name__, found)

    def _instance(self, cls: type, value: list[Any]) -> Any:
        names, decoders, slotted = self._layout(cls)
        if decoders is None:
            raise CodecError(f"{cls.__qualname__} cannot be read from a cache")
        if len(value) != len(names) + 1:
            raise CodecError(f"{cls.__qualname__} has {len(names)} fields, not {len(value) - 1}")
        values = [decode_field(item) for decode_field, item in zip(decoders, value[1:], strict=True)]
        made: Any = object.__new__(cls)  # no __init__, no __post_init__: nothing of the class runs
        if slotted:
            for name, item in zip(names, values, strict=True):
                object.__setattr__(made, name, item)
        else:
            made.__dict__.update(zip(names, values, strict=True))
        self._kept.append(made)
        return made

    def _decoder(self, hint: Any) -> Decoder:
        found = self._decoders.get(hint)
        if found is None:
            found = self._decoders[hint] = self._make_decoder(hint)
        return found

    def _make_decoder(self, hint: Any) -> Decoder:
        """A function that decodes a JSON value into `hint`, or raises CodecError."""
        origin, args = get_origin(hint), get_args(hint)
        if hint is Any or hint is object:
            return self._any
        if hint in (str, int, bool):
            return lambda value: value if type(value) is hint else _fail(hint.__name__, value)
        if hint is float:
            return lambda value: float(value) if type(value) in (int, float) else _fail("a number", value)
        if hint is type(None):
            return lambda value: None if value is None else _fail("null", value)
        if origin is types.UnionType or origin is Union:
            options = [a for a in args if a is not type(None)]
            if len(options) == 1:
                inner = self._decoder(options[0])
                return lambda value: None if value is None else inner(value)
            allowed = tuple(get_origin(a) or a for a in args)
            return lambda value: _checked(self._any(value), allowed)
        if origin is Literal:
            allowed_values = frozenset(args)
            return lambda value: value if type(value) in _PLAIN and value in allowed_values else _fail("a known value", value)
        if origin is tuple:
            return self._tuple_decoder(args)
        if origin is list:
            item = self._decoder(args[0])
            return lambda value: [item(x) for x in _tagged(value, "l")[1:]]
        if origin is frozenset:
            item = self._decoder(args[0])
            return lambda value: frozenset(item(x) for x in _tagged(value, "fs")[1:])
        if origin in (dict, Mapping):
            return self._mapping_decoder(args)
        scalar = {datetime: _datetime, date: _date, Path: _path, bytes: _bytes, Author: self._author}.get(hint)
        if scalar is not None:
            return scalar
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            tag = f"@{hint.__module__}:{hint.__qualname__}"

            def instance(value: Any) -> Any:
                if type(value) is list and value and value[0] == "r":
                    return self._reference(value, hint)
                return self._instance(hint, _tagged(value, tag))

            return instance
        raise CodecError(f"no decoder for {hint!r}")

    def _tuple_decoder(self, args: tuple[Any, ...]) -> Decoder:
        if len(args) == 2 and args[1] is Ellipsis and args[0] in (str, int):
            kind = args[0]

            def plain(value: Any) -> tuple[Any, ...]:
                items = _tagged(value, "t")[1:]
                return tuple(items) if set(map(type, items)) <= {kind} else _fail(f"a tuple of {kind.__name__}", value)

            return plain
        if len(args) == 2 and args[1] is Ellipsis:
            item = self._decoder(args[0])
            return lambda value: tuple([item(x) for x in _tagged(value, "t")[1:]])
        items = tuple(self._decoder(a) for a in args)

        def fixed(value: Any) -> tuple[Any, ...]:
            parts = _tagged(value, "t")[1:]
            if len(parts) != len(items):
                _fail(f"a tuple of {len(items)}", value)
            return tuple(decode_item(x) for decode_item, x in zip(items, parts, strict=True))

        return fixed

    def _mapping_decoder(self, args: tuple[Any, ...]) -> Decoder:
        key_decoder, item_decoder = (self._decoder(args[0]), self._decoder(args[1])) if args else (self._any, self._any)
        if args and args[0] is str:
            def text_keys(value: Any) -> dict[str, Any]:
                if type(value) is not dict:
                    _fail("an object", value)
                return {key: item_decoder(item) for key, item in value.items()}

            return text_keys

        def pairs(value: Any) -> dict[Any, Any]:
            if type(value) is dict:  # text keys written as an object
                return {key_decoder(key): item_decoder(item) for key, item in value.items()}
            parts = _tagged(value, "m")
            if len(parts) % 2 != 1:
                _fail("key and value pairs", value)
            return {key_decoder(parts[i]): item_decoder(parts[i + 1]) for i in range(1, len(parts), 2)}

        return pairs


def _datetime(value: Any) -> datetime:
    _tagged(value, "dt")
    if len(value) == 3 and type(value[1]) is str and value[2] is None:
        return datetime.fromisoformat(value[1])
    if len(value) != 4 or type(value[1]) is not str or type(value[2]) is not str or value[3] not in (0, 1):
        _fail("['dt', iso, zone, fold]", value)
    moment = datetime.fromisoformat(value[1])
    if moment.tzinfo is not None:
        _fail("a wall time", value)
    return moment.replace(tzinfo=ZoneInfo(value[2]), fold=value[3])


def _date(value: Any) -> date:
    _tagged(value, "da")
    if len(value) != 2 or type(value[1]) is not str:
        _fail("['da', iso]", value)
    return date.fromisoformat(value[1])


def _path(value: Any) -> Path:
    _tagged(value, "p")
    if len(value) != 2 or type(value[1]) is not str:
        _fail("['p', text]", value)
    return Path(value[1])


def _bytes(value: Any) -> bytes:
    _tagged(value, "b")
    if len(value) != 2 or type(value[1]) is not str:
        _fail("['b', base64]", value)
    return base64.b64decode(value[1], validate=True)


def _checked(value: Any, allowed: tuple[type, ...]) -> Any:
    return value if isinstance(value, allowed) else _fail(" or ".join(t.__name__ for t in allowed), value)


@cache
def _class(name: str) -> type:
    """A dataclass of syndicate's own, by `module:Qualname`; never imports anything."""
    module_name, _, qualname = name.partition(":")
    if module_name != "syndicate" and not module_name.startswith("syndicate."):
        raise CodecError(f"not a syndicate type: {name}")
    found: Any = sys.modules.get(module_name)
    for part in qualname.split("."):
        if not part.isidentifier() or part.startswith("__"):
            raise CodecError(f"not a class name: {name}")
        found = getattr(found, part, None)
    if not isinstance(found, type) or not dataclasses.is_dataclass(found) or found is Author:
        raise CodecError(f"not a cached type: {name}")
    return found


@cache
def _field_names(cls: Any) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _hints(cls: Any) -> dict[str, Any]:
    """The class's annotations, resolved. A name its module imports only for type checking
    (to avoid an import cycle) is looked up among syndicate's modules already loaded."""
    namespace = dict(vars(sys.modules[cls.__module__]))
    for _attempt in range(20):
        try:
            return get_type_hints(cls, globalns=namespace)
        except NameError as exc:
            name = exc.name
            found = [getattr(module, name) for key, module in list(sys.modules.items())
                     if name and (key == "syndicate" or key.startswith("syndicate.")) and isinstance(getattr(module, name, None), type)]
            if not name or name in namespace or len(set(found)) != 1:
                raise
            namespace[name] = found[0]
    return get_type_hints(cls, globalns=namespace)
