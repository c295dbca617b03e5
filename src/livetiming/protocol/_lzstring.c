/*
 * C accelerator for livetiming.protocol.lzstring.
 *
 * Implements LZ-String's compressToUTF16 / decompressFromUTF16 so that the
 * output is identical to the JavaScript lz-string package (1.5.0), which is
 * what web clients use to decompress SERVICE_DATA_COMPRESSED payloads.
 *
 * JavaScript strings are sequences of UTF-16 code units, so both directions
 * work on code units: astral characters are handled as surrogate pairs and
 * lone surrogates pass through unchanged.
 *
 * The bit stream: every code is written least significant bit first, and
 * output characters are filled most significant bit first, 15 bits each,
 * offset by 32.  Internally bits are kept in an accumulator in stream order
 * (first bit lowest), and each 15-bit group is bit-reversed when it becomes
 * an output character (and when an input character is read).
 *
 * The hot loops run without the GIL and use only the raw allocator.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Keeps every dictionary code below 2**32 and every code width <= 33. */
#define MAX_UNITS ((Py_ssize_t)1 << 30)
#define MAX_DICT_SIZE ((uint64_t)1 << 32)

#define CHAR_OFFSET 32
#define BITS_PER_CHAR 15
#define CHAR_MASK 0x7FFFu

typedef enum {
    LZ_OK = 0,
    LZ_NOMEM,
    LZ_TOO_LARGE,
    LZ_EMPTY,
    LZ_BAD_FIRST_CODE,
    LZ_TRUNCATED,
    LZ_BAD_CODE
} lz_status;

/* Reverses the low 15 bits of v (v < 2**15). */
static inline uint32_t
rev15(uint32_t v)
{
    v = ((v >> 1) & 0x5555u) | ((v & 0x5555u) << 1);
    v = ((v >> 2) & 0x3333u) | ((v & 0x3333u) << 2);
    v = ((v >> 4) & 0x0F0Fu) | ((v & 0x0F0Fu) << 4);
    v = ((v >> 8) & 0x00FFu) | ((v & 0x00FFu) << 8);
    return v >> 1;
}

static inline int
is_high_surrogate(uint32_t u)
{
    return u >= 0xD800 && u <= 0xDBFF;
}

static inline int
is_low_surrogate(uint32_t u)
{
    return u >= 0xDC00 && u <= 0xDFFF;
}

/* ------------------------------------------------------------------ */
/* UTF-16 view of a str                                                */
/* ------------------------------------------------------------------ */

/*
 * Code units of a str.  1- and 2-byte kinds already are UTF-16 code units
 * and are read in place; 4-byte strings are converted into `owned`.
 */
typedef struct {
    const void *data;
    int kind;
    Py_ssize_t len;
    uint16_t *owned;
} units_t;

static inline uint32_t
unit_at(const units_t *u, Py_ssize_t i)
{
    if (u->kind == PyUnicode_1BYTE_KIND) {
        return ((const Py_UCS1 *)u->data)[i];
    }
    return ((const Py_UCS2 *)u->data)[i];
}

static int
check_length(Py_ssize_t units)
{
    if (units > MAX_UNITS) {
        PyErr_SetString(PyExc_OverflowError,
                        "string too long for LZ-String");
        return -1;
    }
    return 0;
}

/* Fills `u` from `str`; returns -1 with an exception set on failure. */
static int
units_from_str(PyObject *str, units_t *u)
{
    Py_ssize_t len, i, n, astral = 0;
    const Py_UCS4 *src;
    uint16_t *dst;

#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(str) < 0) {
        return -1;
    }
#endif
    len = PyUnicode_GET_LENGTH(str);
    u->owned = NULL;
    u->kind = PyUnicode_KIND(str);
    u->data = PyUnicode_DATA(str);
    u->len = len;
    if (u->kind != PyUnicode_4BYTE_KIND) {
        return check_length(len);
    }
    src = (const Py_UCS4 *)u->data;
    for (i = 0; i < len; i++) {
        astral += src[i] > 0xFFFF;
    }
    n = len + astral;
    if (check_length(n) < 0) {
        return -1;
    }
    dst = PyMem_RawMalloc((size_t)n * sizeof(uint16_t));
    if (dst == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < len; i++) {
        Py_UCS4 ch = src[i];
        if (ch > 0xFFFF) {
            ch -= 0x10000;
            *dst++ = (uint16_t)(0xD800 | (ch >> 10));
            *dst++ = (uint16_t)(0xDC00 | (ch & 0x3FF));
        }
        else {
            *dst++ = (uint16_t)ch;
        }
    }
    u->owned = dst - n;
    u->data = u->owned;
    u->kind = PyUnicode_2BYTE_KIND;
    u->len = n;
    return 0;
}

/* Builds a str from UTF-16 code units, joining surrogate pairs. */
static PyObject *
str_from_units(const uint16_t *buf, Py_ssize_t len)
{
    Py_ssize_t i, j, pairs = 0;
    PyObject *str;
    Py_UCS4 *dst;

    for (i = 0; i + 1 < len; i++) {
        if (is_high_surrogate(buf[i]) && is_low_surrogate(buf[i + 1])) {
            pairs++;
            i++;
        }
    }
    if (pairs == 0) {
        return PyUnicode_FromKindAndData(PyUnicode_2BYTE_KIND, buf, len);
    }
    str = PyUnicode_New(len - pairs, 0x10FFFF);
    if (str == NULL) {
        return NULL;
    }
    dst = PyUnicode_4BYTE_DATA(str);
    for (i = 0, j = 0; i < len; i++, j++) {
        if (i + 1 < len && is_high_surrogate(buf[i])
            && is_low_surrogate(buf[i + 1])) {
            dst[j] = 0x10000 + (((Py_UCS4)buf[i] - 0xD800) << 10)
                     + ((Py_UCS4)buf[i + 1] - 0xDC00);
            i++;
        }
        else {
            dst[j] = buf[i];
        }
    }
    return str;
}

/* ------------------------------------------------------------------ */
/* Growable code-unit buffer                                           */
/* ------------------------------------------------------------------ */

typedef struct {
    uint16_t *data;
    Py_ssize_t len;
    Py_ssize_t cap;
} ubuf_t;

/* Makes room for `extra` more units; returns 0 or an lz_status. */
static int
ubuf_reserve(ubuf_t *b, Py_ssize_t extra)
{
    Py_ssize_t need, cap;
    uint16_t *data;

    if (extra > PY_SSIZE_T_MAX / 4 - b->len) {
        return LZ_NOMEM;
    }
    need = b->len + extra;
    if (need <= b->cap) {
        return LZ_OK;
    }
    cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need) {
        cap *= 2;
    }
    data = PyMem_RawRealloc(b->data, (size_t)cap * sizeof(uint16_t));
    if (data == NULL) {
        return LZ_NOMEM;
    }
    b->data = data;
    b->cap = cap;
    return LZ_OK;
}

/* ------------------------------------------------------------------ */
/* Compression                                                         */
/* ------------------------------------------------------------------ */

/*
 * Dictionary: open-addressing hash table mapping (prefix code, code unit)
 * to a code.  Prefix 0 (never a valid code) keys single characters.
 */
typedef struct {
    uint64_t key;
    uint32_t code; /* 0 marks an empty slot */
} slot_t;

typedef struct {
    slot_t *slots;
    size_t mask;
    unsigned shift;
    size_t used;
} table_t;

static int
table_init(table_t *t, unsigned bits)
{
    t->slots = PyMem_RawCalloc((size_t)1 << bits, sizeof(slot_t));
    if (t->slots == NULL) {
        return LZ_NOMEM;
    }
    t->mask = ((size_t)1 << bits) - 1;
    t->shift = 64 - bits;
    t->used = 0;
    return LZ_OK;
}

static inline slot_t *
table_find(const table_t *t, uint64_t key)
{
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> t->shift);

    for (;;) {
        slot_t *s = &t->slots[i];
        if (s->code == 0 || s->key == key) {
            return s;
        }
        i = (i + 1) & t->mask;
    }
}

/* Fills the empty slot `s` (from table_find) and grows at half load. */
static int
table_insert(table_t *t, slot_t *s, uint64_t key, uint32_t code)
{
    table_t bigger;
    size_t i;

    s->key = key;
    s->code = code;
    if (++t->used * 2 <= t->mask + 1) {
        return LZ_OK;
    }
    if (table_init(&bigger, 64 - t->shift + 1) != LZ_OK) {
        return LZ_NOMEM;
    }
    for (i = 0; i <= t->mask; i++) {
        if (t->slots[i].code != 0) {
            *table_find(&bigger, t->slots[i].key) = t->slots[i];
        }
    }
    bigger.used = t->used;
    PyMem_RawFree(t->slots);
    *t = bigger;
    return LZ_OK;
}

typedef struct {
    ubuf_t *out;
    uint64_t acc;   /* pending bits, first bit lowest */
    unsigned nacc;  /* number of pending bits, < 15 between calls */
} writer_t;

/* Appends the low `nbits` (<= 33) bits of value, least significant first. */
static inline int
put_bits(writer_t *w, uint64_t value, unsigned nbits)
{
    w->acc |= (value & (((uint64_t)1 << nbits) - 1)) << w->nacc;
    w->nacc += nbits;
    while (w->nacc >= BITS_PER_CHAR) {
        if (w->out->len == w->out->cap && ubuf_reserve(w->out, 1) != LZ_OK) {
            return LZ_NOMEM;
        }
        w->out->data[w->out->len++] =
            (uint16_t)(rev15((uint32_t)w->acc & CHAR_MASK) + CHAR_OFFSET);
        w->acc >>= BITS_PER_CHAR;
        w->nacc -= BITS_PER_CHAR;
    }
    return LZ_OK;
}

typedef struct {
    writer_t wr;
    table_t dict;
    uint32_t dict_size;    /* next code */
    uint8_t *pending;      /* bitmap: first seen, literal not yet written */
    uint32_t num_bits;
    uint64_t enlarge_in;
} encoder_t;

static inline void
count_down(encoder_t *e)
{
    if (--e->enlarge_in == 0) {
        e->enlarge_in = (uint64_t)1 << e->num_bits;
        e->num_bits++;
    }
}

/* Finds the code of a one-unit phrase, adding it (pending) if new. */
static int
unit_phrase(encoder_t *e, uint32_t unit, uint32_t *code)
{
    slot_t *s = table_find(&e->dict, unit);

    if (s->code != 0) {
        *code = s->code;
        return LZ_OK;
    }
    e->pending[unit >> 3] |= (uint8_t)(1u << (unit & 7));
    *code = e->dict_size++;
    return table_insert(&e->dict, s, unit, *code);
}

/*
 * Writes the phrase w: its code, or, the first time a character is written,
 * a literal (marker 0 + 8 bits, or marker 1 + 16 bits).
 */
static int
emit_phrase(encoder_t *e, uint32_t code, Py_ssize_t len, uint32_t unit)
{
    int rc;

    if (len == 1 && (e->pending[unit >> 3] & (1u << (unit & 7)))) {
        e->pending[unit >> 3] &= (uint8_t)~(1u << (unit & 7));
        if (unit < 256) {
            rc = put_bits(&e->wr, 0, e->num_bits);
            if (rc == LZ_OK) {
                rc = put_bits(&e->wr, unit, 8);
            }
        }
        else {
            rc = put_bits(&e->wr, 1, e->num_bits);
            if (rc == LZ_OK) {
                rc = put_bits(&e->wr, unit, 16);
            }
        }
        count_down(e);
    }
    else {
        rc = put_bits(&e->wr, code, e->num_bits);
    }
    count_down(e);
    return rc;
}

/*
 * The reference implementation keeps its dictionary in a plain JavaScript
 * object, where assigning the key "__proto__" is silently ignored; that
 * phrase therefore never enters the dictionary (its code is still used up).
 */
static int
is_proto_key(const units_t *in, Py_ssize_t end)
{
    static const char proto[] = "__proto__";
    Py_ssize_t k, start = end - 8;

    for (k = 0; k < 9; k++) {
        if (unit_at(in, start + k) != (uint32_t)(unsigned char)proto[k]) {
            return 0;
        }
    }
    return 1;
}

/*
 * LZW over code units.  The current phrase w is known by its code, its
 * length and (for one-unit phrases) its unit; it always ends just before
 * the unit being looked at.
 */
static int
encode(encoder_t *e, const units_t *in)
{
    uint32_t w_code = 0, w_unit;
    Py_ssize_t i, w_len = 1;
    int rc;

    if (in->len == 0) {
        return LZ_OK;
    }
    w_unit = unit_at(in, 0);
    rc = unit_phrase(e, w_unit, &w_code);
    for (i = 1; i < in->len && rc == LZ_OK; i++) {
        uint32_t unit = unit_at(in, i), unit_code;
        uint64_t key = ((uint64_t)w_code << 16) | unit;
        slot_t *s = table_find(&e->dict, key);

        if (s->code != 0) {
            w_code = s->code;
            w_len++;
            continue;
        }
        /* A new character gets its code before the new phrase w + unit. */
        rc = unit_phrase(e, unit, &unit_code);
        if (rc == LZ_OK) {
            rc = emit_phrase(e, w_code, w_len, w_unit);
        }
        if (rc == LZ_OK && !(w_len == 8 && is_proto_key(in, i))) {
            /* Found again: unit_phrase may have moved the slots. */
            rc = table_insert(&e->dict, table_find(&e->dict, key), key,
                              e->dict_size);
        }
        e->dict_size++;
        w_code = unit_code;
        w_unit = unit;
        w_len = 1;
    }
    if (rc == LZ_OK) {
        rc = emit_phrase(e, w_code, w_len, w_unit);
    }
    return rc;
}

static int
compress_units(const units_t *in, ubuf_t *out)
{
    encoder_t e;
    int rc;

    memset(&e, 0, sizeof(e));
    e.wr.out = out;
    e.dict_size = 3;
    e.num_bits = 2;
    e.enlarge_in = 2;
    rc = table_init(&e.dict, 12);
    if (rc == LZ_OK) {
        e.pending = PyMem_RawCalloc(65536 / 8, 1);
        rc = e.pending == NULL ? LZ_NOMEM : ubuf_reserve(out, in->len / 4 + 2);
    }
    if (rc == LZ_OK) {
        rc = encode(&e, in);
    }
    if (rc == LZ_OK) {
        rc = put_bits(&e.wr, 2, e.num_bits); /* end of stream */
    }
    if (rc == LZ_OK) {
        rc = ubuf_reserve(out, 2);
    }
    if (rc == LZ_OK) {
        /* Last, zero-padded character (a whole one if no bit is pending),
         * then the trailing space compressToUTF16 always appends. */
        out->data[out->len++] =
            (uint16_t)(rev15((uint32_t)e.wr.acc) + CHAR_OFFSET);
        out->data[out->len++] = ' ';
    }
    PyMem_RawFree(e.pending);
    PyMem_RawFree(e.dict.slots);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Decompression                                                       */
/* ------------------------------------------------------------------ */

typedef struct {
    const units_t *in;
    Py_ssize_t next;    /* index of the next input character to load */
    uint64_t acc;       /* loaded, unread bits, first bit lowest */
    unsigned nacc;
    uint64_t consumed;  /* bits read so far */
} reader_t;

/*
 * Reads `nbits` (<= 33) bits as a number, first bit least significant.
 * Past the end of the input JavaScript reads NaN, i.e. zero bits, and
 * (charCode - 32) is masked with 32-bit two's complement semantics.
 */
static inline uint64_t
get_bits(reader_t *r, unsigned nbits)
{
    uint64_t value;

    while (r->nacc < nbits) {
        uint32_t v = 0;
        if (r->next < r->in->len) {
            v = rev15((unit_at(r->in, r->next) - CHAR_OFFSET) & CHAR_MASK);
        }
        r->next++;
        r->acc |= (uint64_t)v << r->nacc;
        r->nacc += BITS_PER_CHAR;
    }
    value = r->acc & (((uint64_t)1 << nbits) - 1);
    r->acc >>= nbits;
    r->nacc -= nbits;
    r->consumed += nbits;
    return value;
}

/* A dictionary phrase is a slice of the output decoded so far. */
typedef struct {
    Py_ssize_t start;
    Py_ssize_t len;
} phrase_t;

typedef struct {
    phrase_t *items;
    uint64_t size;      /* next code; codes 0-2 are never stored */
    uint64_t cap;
} phrases_t;

static int
phrases_add(phrases_t *p, Py_ssize_t start, Py_ssize_t len)
{
    if (p->size == p->cap) {
        uint64_t cap = p->cap * 2;
        phrase_t *items;

        if (cap > MAX_DICT_SIZE) {
            return LZ_TOO_LARGE;
        }
        items = PyMem_RawRealloc(p->items, (size_t)cap * sizeof(phrase_t));
        if (items == NULL) {
            return LZ_NOMEM;
        }
        p->items = items;
        p->cap = cap;
    }
    p->items[p->size].start = start;
    p->items[p->size].len = len;
    p->size++;
    return LZ_OK;
}

static int
decompress_loop(reader_t *r, ubuf_t *out, phrases_t *dict)
{
    uint64_t limit = (uint64_t)r->in->len * BITS_PER_CHAR;
    uint64_t enlarge_in = 4, code;
    unsigned num_bits = 3;
    phrase_t w, entry;
    int rc;

    code = get_bits(r, 2);
    if (code == 2) {
        return LZ_OK;
    }
    if (code == 3) {
        return LZ_BAD_FIRST_CODE;
    }
    rc = ubuf_reserve(out, 1);
    if (rc != LZ_OK) {
        return rc;
    }
    out->data[out->len++] = (uint16_t)get_bits(r, code == 0 ? 8 : 16);
    w.start = 0;
    w.len = 1;
    rc = phrases_add(dict, 0, 1);

    while (rc == LZ_OK) {
        if (r->consumed >= limit) {
            return LZ_TRUNCATED;
        }
        code = get_bits(r, num_bits);
        if (code == 2) {
            return LZ_OK;
        }
        if (code < 2) {
            uint16_t unit = (uint16_t)get_bits(r, code == 0 ? 8 : 16);

            entry.start = out->len;
            entry.len = 1;
            rc = phrases_add(dict, entry.start, 1);
            if (rc == LZ_OK) {
                rc = ubuf_reserve(out, 1);
            }
            if (rc != LZ_OK) {
                return rc;
            }
            out->data[out->len] = unit;
            if (--enlarge_in == 0) {
                enlarge_in = (uint64_t)1 << num_bits;
                num_bits++;
            }
        }
        else if (code < dict->size) {
            entry.start = out->len;
            entry.len = dict->items[code].len;
            rc = ubuf_reserve(out, entry.len);
            if (rc != LZ_OK) {
                return rc;
            }
            memcpy(out->data + entry.start,
                   out->data + dict->items[code].start,
                   (size_t)entry.len * sizeof(uint16_t));
        }
        else if (code == dict->size) {
            /* The phrase being defined: w + w[0]. */
            entry.start = out->len;
            entry.len = w.len + 1;
            rc = ubuf_reserve(out, entry.len);
            if (rc != LZ_OK) {
                return rc;
            }
            memcpy(out->data + entry.start, out->data + w.start,
                   (size_t)w.len * sizeof(uint16_t));
            out->data[entry.start + w.len] = out->data[w.start];
        }
        else {
            return LZ_BAD_CODE;
        }
        out->len += entry.len;
        /* w + entry[0] is contiguous in the output. */
        rc = phrases_add(dict, w.start, w.len + 1);
        if (--enlarge_in == 0) {
            enlarge_in = (uint64_t)1 << num_bits;
            num_bits++;
        }
        w = entry;
    }
    return rc;
}

static int
decompress_units(const units_t *in, ubuf_t *out)
{
    reader_t r = {in, 0, 0, 0, 0};
    phrases_t dict = {NULL, 3, 1024};
    int rc;

    if (in->len == 0) {
        return LZ_EMPTY;
    }
    dict.items = PyMem_RawMalloc((size_t)dict.cap * sizeof(phrase_t));
    rc = dict.items == NULL ? LZ_NOMEM : ubuf_reserve(out, in->len * 3);
    if (rc == LZ_OK) {
        rc = decompress_loop(&r, out, &dict);
    }
    PyMem_RawFree(dict.items);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Python glue                                                         */
/* ------------------------------------------------------------------ */

/* Raises livetiming.protocol.lzstring.LZStringError(message). */
static void
raise_lzstring_error(const char *message)
{
    PyObject *module, *exc;

    module = PyImport_ImportModule("livetiming.protocol.lzstring");
    if (module == NULL) {
        return;
    }
    exc = PyObject_GetAttrString(module, "LZStringError");
    Py_DECREF(module);
    if (exc == NULL) {
        return;
    }
    PyErr_SetString(exc, message);
    Py_DECREF(exc);
}

static PyObject *
raise_status(int rc)
{
    switch (rc) {
    case LZ_NOMEM:
        return PyErr_NoMemory();
    case LZ_TOO_LARGE:
        PyErr_SetString(PyExc_OverflowError,
                        "LZ-String dictionary too large");
        return NULL;
    case LZ_EMPTY:
        raise_lzstring_error("invalid LZ-String data: empty input");
        return NULL;
    case LZ_BAD_FIRST_CODE:
        raise_lzstring_error("invalid LZ-String data: bad first code");
        return NULL;
    case LZ_TRUNCATED:
        raise_lzstring_error(
            "invalid LZ-String data: truncated (no end-of-stream marker)");
        return NULL;
    default:
        raise_lzstring_error("invalid LZ-String data: bad dictionary code");
        return NULL;
    }
}

typedef int (*codec_fn)(const units_t *, ubuf_t *);

/* Runs `codec` on the code units of `arg`, without the GIL. */
static PyObject *
run_codec(PyObject *arg, codec_fn codec)
{
    units_t in;
    ubuf_t out = {NULL, 0, 0};
    PyObject *result;
    int rc;

    if (!PyUnicode_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "expected str, got %.200s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    if (units_from_str(arg, &in) < 0) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    rc = codec(&in, &out);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(in.owned);
    result = rc == LZ_OK ? str_from_units(out.data, out.len)
                         : raise_status(rc);
    PyMem_RawFree(out.data);
    return result;
}

static PyObject *
lz_compress_to_utf16(PyObject *Py_UNUSED(module), PyObject *arg)
{
    return run_codec(arg, compress_units);
}

static PyObject *
lz_decompress_from_utf16(PyObject *Py_UNUSED(module), PyObject *arg)
{
    return run_codec(arg, decompress_units);
}

static PyMethodDef lz_methods[] = {
    {"compress_to_utf16", lz_compress_to_utf16, METH_O,
     "compress_to_utf16(s, /)\n--\n\n"
     "LZ-String compressToUTF16, identical to the JavaScript lz-string."},
    {"decompress_from_utf16", lz_decompress_from_utf16, METH_O,
     "decompress_from_utf16(s, /)\n--\n\n"
     "LZ-String decompressFromUTF16; raises LZStringError on invalid data."},
    {NULL, NULL, 0, NULL}
};

static PyModuleDef_Slot lz_slots[] = {
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef lz_module = {
    PyModuleDef_HEAD_INIT,
    "livetiming.protocol._lzstring",
    "C accelerator for livetiming.protocol.lzstring.",
    0,
    lz_methods,
    lz_slots,
    NULL,
    NULL,
    NULL
};

PyMODINIT_FUNC
PyInit__lzstring(void)
{
    return PyModuleDef_Init(&lz_module);
}
