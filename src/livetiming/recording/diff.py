"""The difference format of recordings: `dictdiffer`'s, produced and applied fast.

Recording intra-frames hold `list(dictdiffer.diff(prev, new))` made JSON-able
(tuples become lists), because that is what `dictdiffer.patch` and the
JavaScript readers of `@timing71/common` apply. `dictdiffer` itself is too
slow for us on both sides:

* `dictdiffer.diff` visits every cell of every row (≈4 ms for a 60-car
  state); `diff()` here skips equal subtrees with one C-level `==` first,
  which cannot change the output (equal containers yield nothing in
  dictdiffer either), then follows dictdiffer's rules exactly: key and
  index order, `add`/`remove` grouping, dotted or list paths, and its
  leaf comparison (NaN equals NaN; numbers within a relative epsilon are
  equal, so `1 == 1.0 == True`). The tests prove equal output on thousands
  of real state pairs.
* `dictdiffer.patch` deep-copies its target. `patch()` here copies only the
  containers on the changed paths ("copy-on-write"): the target is left
  untouched and the result shares every unchanged row with it, so a reader
  can hand out each state of a recording without copying whole states.

Inputs are JSON data (dict, list, str, int, float, bool, None). Like
dictdiffer, tuples and other types are compared as plain values.
"""
import math
import sys
from typing import Any, List, Sequence, Union

from .errors import PatchError

EPSILON = sys.float_info.epsilon
"""dictdiffer's default relative tolerance for numbers."""

ADD, REMOVE, CHANGE = "add", "remove", "change"

DiffPath = Union[str, List[Union[str, int]]]
Diff = List[list]

_NUMBERS = (int, float)


# --------------------------------------------------------------------- diff


def diff(first: Any, second: Any) -> Diff:
    """`list(dictdiffer.diff(first, second))` as JSON-ready lists: each item is
    `[action, path, change]`; values in it are copies, not shared with the inputs."""
    out: Diff = []
    _diff(first, second, [], out)
    return out


def _diff(first: Any, second: Any, node: list, out: Diff) -> None:
    if first is second:
        return
    if isinstance(first, dict) and isinstance(second, dict):
        if first == second:
            return
        for key, value in first.items():
            if key in second:
                other = second[key]
                if value is not other and value != other:
                    _diff(value, other, node + [key], out)
        added = [[key, _clone(value)] for key, value in second.items() if key not in first]
        if added:
            out.append([ADD, _dotted(node), added])
        removed = [[key, _clone(value)] for key, value in first.items() if key not in second]
        if removed:
            out.append([REMOVE, _dotted(node), removed])
    elif isinstance(first, list) and isinstance(second, list):
        if first == second:
            return
        common = min(len(first), len(second))
        for index in range(common):
            a = first[index]
            b = second[index]
            if a is not b and a != b:   # equal values yield nothing: skip the call
                _diff(a, b, node + [index], out)
        if len(second) > common:
            out.append([ADD, _dotted(node),
                        [[index, _clone(second[index])] for index in range(common, len(second))]])
        if len(first) > common:
            out.append([REMOVE, _dotted(node),
                        [[index, _clone(first[index])]
                         for index in reversed(range(common, len(first)))]])
    elif are_different(first, second):
        out.append([CHANGE, _dotted(node), [_clone(first), _clone(second)]])


def are_different(first: Any, second: Any) -> bool:
    """dictdiffer's leaf comparison (`dictdiffer.utils.are_different` with its
    default tolerance)."""
    if first == second:
        return False
    first_is_nan = bool(first != first)
    second_is_nan = bool(second != second)
    if first_is_nan or second_is_nan:
        return not (first_is_nan and second_is_nan)
    if isinstance(first, _NUMBERS) and isinstance(second, _NUMBERS):
        return not math.isclose(first, second, rel_tol=EPSILON)
    return True


def _dotted(node: list) -> DiffPath:
    """dictdiffer's path notation: "a.b" when every key is a string without a
    dot ("" for the root), else the list of keys."""
    for key in node:
        if not isinstance(key, str) or "." in key:
            return list(node)
    return ".".join(node)


def _clone(value: Any) -> Any:
    """Deep copy of JSON data (much faster than copy.deepcopy)."""
    if isinstance(value, list):
        return [_clone(item) for item in value]
    if isinstance(value, dict):
        return {key: _clone(item) for key, item in value.items()}
    return value


# -------------------------------------------------------------------- patch


def patch(operations: Sequence, target: Any, strict: bool = False) -> Any:
    """`target` with a dictdiffer diff applied, as `dictdiffer.patch` would do,
    without modifying `target`: containers on changed paths are copied, the
    rest is shared with `target` (so treat both as read-only afterwards).

    With `strict`, also check that the diff fits the target (a `change`'s old
    value is the current one, an `add` does not overwrite or skip ahead, a
    `remove` removes what it says); dictdiffer silently tolerates those, and
    so does the default. Raises PatchError when the diff does not apply."""
    if not operations:
        return target
    if not isinstance(operations, (list, tuple)):
        raise PatchError(f"a diff is a list of operations, not {type(operations).__name__}")
    root = _own_copy(target, "the target")
    owned = {id(root)}
    for operation in operations:
        try:
            action, path, change = operation
        except (TypeError, ValueError):
            raise PatchError(f"malformed operation {_short(operation)}") from None
        try:
            if action == CHANGE and not strict and path:
                # Fast path for the bulk of every recording: a change at a
                # list path ([row, column(, 0)]) or at a top-level key.
                # Same steps as _change(), inlined.
                _, new = change
                if type(path) is list:
                    node = root
                    for key in path[:-1]:
                        if type(key) is not int and type(node) is list:
                            key = int(key)
                        child = node[key]
                        if id(child) not in owned:
                            kind = type(child)
                            if kind is list or kind is dict:
                                child = child.copy()
                            else:
                                child = _own_copy(child, f"the value at {key!r}")  # raises
                            node[key] = child
                            owned.add(id(child))
                        node = child
                    key = path[-1]
                    if type(key) is not int and type(node) is list:
                        key = int(key)
                    node[key] = new
                    continue
                if type(path) is str and "." not in path:
                    root[int(path) if type(root) is list else path] = new
                    continue
            if action == CHANGE:
                _change(root, path, change, owned, strict)
            elif action == ADD:
                _add(root, path, change, owned, strict)
            elif action == REMOVE:
                _remove(root, path, change, owned, strict)
            else:
                raise PatchError(f"unknown action {action!r}")
        except PatchError as error:
            raise PatchError(f"{action} at {path!r}: {error}") from None
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
            raise PatchError(f"{action} at {path!r} does not apply: "
                             f"{type(error).__name__}: {error}") from None
    return root


def _own_copy(value: Any, what: Any) -> Any:
    if isinstance(value, list):
        return value.copy()
    if isinstance(value, dict):
        return value.copy()
    raise PatchError(f"{what} is {type(value).__name__}, not a list or object")


def _lookup(root: Any, keys: Sequence, owned: set) -> Any:
    """The container at `keys`, copying each one on the way that this patch
    does not own yet (dictdiffer's dot_lookup, plus copy-on-write)."""
    node = root
    for key in keys:
        if isinstance(node, list):
            key = int(key)
        child = node[key]
        if id(child) not in owned:
            child = _own_copy(child, f"the value at {key!r}")
            node[key] = child
            owned.add(id(child))
        node = child
    return node


def _keys(path: Any) -> list:
    """The keys of a path; "" (and []) is the root, like dictdiffer's dot_lookup."""
    if path is None or path == "" or path == []:
        return []
    if isinstance(path, str):
        return path.split(".")
    if isinstance(path, (list, tuple)):
        return list(path)
    raise PatchError(f"a path is a string or a list, not {type(path).__name__}")


def _change(root: Any, path: Any, change: Any, owned: set, strict: bool) -> None:
    if isinstance(path, str):
        last = path.split(".")[-1]
    elif isinstance(path, (list, tuple)) and path:
        last = path[-1]
    else:
        raise PatchError("a change needs a non-empty path")
    old, new = change
    parent = _lookup(root, _keys(path)[:-1], owned)
    if isinstance(parent, list):
        last = int(last)
    if strict:
        if isinstance(parent, list):
            if not 0 <= last < len(parent):
                raise PatchError(f"index {last} is outside a list of {len(parent)}")
        elif not isinstance(parent, dict):
            raise PatchError(f"cannot change a key of a {type(parent).__name__}")
        elif last not in parent:
            raise PatchError(f"no key {last!r} to change")
        if diff(parent[last], old):
            raise PatchError(f"old value {_short(old)} is not the current {_short(parent[last])}")
    parent[last] = new


def _add(root: Any, path: Any, change: Any, owned: set, strict: bool) -> None:
    dest = _lookup(root, _keys(path), owned)
    for key, value in change:
        if isinstance(dest, list):
            if strict and not (isinstance(key, int) and 0 <= key <= len(dest)):
                raise PatchError(f"cannot insert at {key!r} into a list of {len(dest)}")
            dest.insert(key, value)
        elif isinstance(dest, dict):
            if strict and key in dest:
                raise PatchError(f"key {key!r} already exists")
            dest[key] = value
        else:
            raise PatchError(f"cannot add to a {type(dest).__name__}")


def _remove(root: Any, path: Any, change: Any, owned: set, strict: bool) -> None:
    dest = _lookup(root, _keys(path), owned)
    if not isinstance(dest, (list, dict)):
        raise PatchError(f"cannot remove from a {type(dest).__name__}")
    for key, value in change:
        if strict:
            if isinstance(dest, list) and not (isinstance(key, int) and 0 <= key < len(dest)):
                raise PatchError(f"index {key!r} is outside a list of {len(dest)}")
            if isinstance(dest, dict) and key not in dest:
                raise PatchError(f"no key {key!r} to remove")
            if diff(dest[key], value):
                raise PatchError(f"removed value {_short(value)} is not the current "
                                 f"{_short(dest[key])}")
        del dest[key]


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."
