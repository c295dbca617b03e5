/**
 * Applying a recording's differences (protocol §7): the format of Python's
 * `dictdiffer`, a list of `[action, path, change]`:
 *
 * - `change`: `change` is `[old, new]`; the value at `path` becomes `new`.
 * - `add`: `change` is a list of `[key_or_index, value]` put into the
 *   container at `path` (a list gets each value inserted at its index).
 * - `remove`: `change` is a list of `[key_or_index, value]` taken out of the
 *   container at `path` (a list's indices come highest first).
 *
 * A path is a dotted string (`"a.b"`, `""` for the root) or a list of keys
 * and indices; in a list, a key is read as an index. Written from the spec.
 *
 * `patch()` leaves its target untouched: the containers on changed paths are
 * copied, everything else is shared with the target ("copy-on-write"), so a
 * 60-car state costs only the rows that changed. Treat both as read-only.
 */

export class PatchError extends Error {}

function isContainer(value) {
  return value !== null && typeof value === "object";
}

function shallowCopy(value, what) {
  if (Array.isArray(value)) return value.slice();
  if (isContainer(value)) return { ...value };
  throw new PatchError(`${what} is ${value === null ? "null" : typeof value}, not a list or object`);
}

/** Own-property write: a key such as `__proto__` is data, never the prototype. */
function put(node, key, value) {
  if (Array.isArray(node)) {
    node[key] = value;
  } else {
    Object.defineProperty(node, key, { value, writable: true, enumerable: true, configurable: true });
  }
}

function keysOf(path) {
  if (path === null || path === undefined || path === "") return [];
  if (typeof path === "string") return path.split(".");
  if (Array.isArray(path)) return path;
  throw new PatchError(`a path is a string or a list, not ${typeof path}`);
}

function indexIn(node, key) {
  if (!Array.isArray(node)) return key;
  const index = typeof key === "number" ? key : Number(key);
  if (!Number.isInteger(index)) throw new PatchError(`${JSON.stringify(key)} is not a list index`);
  return index;
}

function has(node, key) {
  return Array.isArray(node) ? key >= 0 && key < node.length : Object.prototype.hasOwnProperty.call(node, key);
}

/**
 * `target` with `operations` applied, not modifying `target`. Throws
 * PatchError when an operation does not fit (missing key or index, a value
 * where a container is needed, an unknown action).
 */
export function patch(operations, target) {
  if (!Array.isArray(operations)) throw new PatchError("a diff is a list of operations");
  if (operations.length === 0) return target;
  const owned = new Set();
  const root = shallowCopy(target, "the target");
  owned.add(root);

  /** The container at `keys`, made this patch's own on the way down. */
  function lookup(keys) {
    let node = root;
    for (const raw of keys) {
      if (!isContainer(node)) throw new PatchError(`cannot look up ${JSON.stringify(raw)} in a value`);
      const key = indexIn(node, raw);
      if (!has(node, key)) throw new PatchError(`no ${JSON.stringify(raw)} on the path`);
      let child = node[key];
      if (!owned.has(child)) {
        child = shallowCopy(child, `the value at ${JSON.stringify(raw)}`);
        put(node, key, child);
        owned.add(child);
      }
      node = child;
    }
    return node;
  }

  for (const operation of operations) {
    if (!Array.isArray(operation) || operation.length !== 3) {
      throw new PatchError(`malformed operation ${JSON.stringify(operation).slice(0, 80)}`);
    }
    const [action, path, change] = operation;
    const keys = keysOf(path);
    if (action === "change") {
      if (keys.length === 0) throw new PatchError("a change needs a non-empty path");
      if (!Array.isArray(change) || change.length !== 2) throw new PatchError("a change is [old, new]");
      const parent = lookup(keys.slice(0, -1));
      const key = indexIn(parent, keys[keys.length - 1]);
      if (Array.isArray(parent) && !has(parent, key)) {
        throw new PatchError(`index ${key} is outside a list of ${parent.length}`);
      }
      put(parent, key, change[1]);
    } else if (action === "add" || action === "remove") {
      if (!Array.isArray(change)) throw new PatchError(`an ${action} is a list of [key, value]`);
      const node = lookup(keys);
      for (const item of change) {
        if (!Array.isArray(item) || item.length !== 2) throw new PatchError(`malformed ${action} item`);
        const key = indexIn(node, item[0]);
        if (action === "add") {
          if (Array.isArray(node)) {
            // like Python's list.insert: an index past the end appends
            if (key < 0) throw new PatchError(`cannot insert at ${key}`);
            node.splice(Math.min(key, node.length), 0, item[1]);
          } else {
            put(node, key, item[1]);
          }
        } else {
          if (!has(node, key)) throw new PatchError(`no ${JSON.stringify(item[0])} to remove`);
          if (Array.isArray(node)) node.splice(key, 1);
          else delete node[key];
        }
      }
    } else {
      throw new PatchError(`unknown action ${JSON.stringify(action)}`);
    }
  }
  return root;
}
