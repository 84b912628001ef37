/* The per-record step of the OTLP/JSON fast path (observatory_etl/ingest/otlp_json/typed.py), compiled.
 *
 * span(raw) decodes one canonical OTLP/JSON Span object (opentelemetry-proto trace/v1/trace.proto, "JSON
 * Protobuf Encoding": lowerCamelCase names), log_record(raw) one LogRecord (logs/v1/logs.proto), and
 * number_point(raw) / histogram_point(raw) one NumberDataPoint / HistogramDataPoint (metrics/v1/metrics.proto)
 * straight into the Python values typed.py makes of them with msgspec Structs (structs.py) and the value
 * functions (values.py): ids as bytes / signed int64, times as int ns, attributes as a dict {key: value}.
 *
 * Only the common case is decoded here; for anything else both return None and typed.py decodes that
 * record as before (msgspec, then the value functions, which give the same value or raise the reason). So
 * this module never decides what is rejected or how an unusual value is read: it returns None for
 *   - any field the form does not declare, a field given twice, a null where the Struct has no None;
 *   - an id that is not exactly 32 (trace) or 16 (span) hex digits, or an all-zero required id;
 *   - an enum given by name or as a string, an integer outside int64 (or a time below 0), a number with a
 *     fraction or an exponent where an integer belongs, an integer string other than [-]digits;
 *   - a double given as a string ("NaN", "Infinity") or not finite;
 *   - a string with an invalid escape, a lone surrogate, invalid UTF-8 or a raw control character;
 *   - a span with links, a data point with exemplars; an AnyValue nested deeper than MAX_DEPTH where typed.py
 *     would descend.
 * tests/ingest/test_records_accel.py checks that typed.py decodes the same columns with and without it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 64       /* values.MAX_ANY_VALUE_DEPTH */
#define SKIP_DEPTH 256     /* nesting of an ignored value beyond which the record is left to msgspec */

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
} Cursor;

/* ------------------------------------------------------------------------------------------------ */
/* JSON tokens                                                                                      */

static inline int peek(Cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t'))
        c->p++;
    return c->p < c->end ? *c->p : -1;
}

static inline int eat(Cursor *c, int ch)
{
    if (peek(c) == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

static int literal(Cursor *c, const char *word, size_t n)
{
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return -1;
    c->p += n;
    return 0;
}

/* Short ASCII strings (keys, names, enum-like values) come from a small cache: fewer allocations, and
 * their hash is computed once. */
#define CACHE_SIZE 2048
#define CACHE_MAX_LEN 32
static PyObject *string_cache[CACHE_SIZE];

static PyObject *ascii_string(const unsigned char *s, Py_ssize_t n)
{
    PyObject *str;
    if (n <= CACHE_MAX_LEN) {
        uint32_t h = 2166136261u;
        for (Py_ssize_t i = 0; i < n; i++)
            h = (h ^ s[i]) * 16777619u;
        PyObject **slot = &string_cache[h & (CACHE_SIZE - 1)];
        if (*slot != NULL && PyUnicode_GET_LENGTH(*slot) == n && memcmp(PyUnicode_1BYTE_DATA(*slot), s, n) == 0) {
            Py_INCREF(*slot);
            return *slot;
        }
        str = PyUnicode_New(n, 127);
        if (str == NULL)
            return NULL;
        memcpy(PyUnicode_1BYTE_DATA(str), s, n);
        Py_XSETREF(*slot, str);
        Py_INCREF(str);
        return str;
    }
    str = PyUnicode_New(n, 127);
    if (str == NULL)
        return NULL;
    memcpy(PyUnicode_1BYTE_DATA(str), s, n);
    return str;
}

static int hex_value(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static void put_utf8(unsigned char **out, uint32_t cp)
{
    unsigned char *o = *out;
    if (cp < 0x80) {
        *o++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *o++ = 0xC0 | (cp >> 6);
        *o++ = 0x80 | (cp & 0x3F);
    } else if (cp < 0x10000) {
        *o++ = 0xE0 | (cp >> 12);
        *o++ = 0x80 | ((cp >> 6) & 0x3F);
        *o++ = 0x80 | (cp & 0x3F);
    } else {
        *o++ = 0xF0 | (cp >> 18);
        *o++ = 0x80 | ((cp >> 12) & 0x3F);
        *o++ = 0x80 | ((cp >> 6) & 0x3F);
        *o++ = 0x80 | (cp & 0x3F);
    }
    *out = o;
}

static int read_u16(const unsigned char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(s[i]);
        if (h < 0)
            return -1;
        v = (v << 4) | (uint32_t)h;
    }
    *out = v;
    return 0;
}

/* A JSON string at the cursor (which is at its '"') → a new str; NULL when it is not a valid JSON string
 * of valid UTF-8 without lone surrogates (no Python error is left set for that). */
static PyObject *string(Cursor *c)
{
    const unsigned char *s = ++c->p, *q = s;
    unsigned char high = 0;
    while (q < c->end && *q != '"' && *q != '\\' && *q >= 0x20)
        high |= *q++;
    if (q >= c->end || *q < 0x20)
        return NULL;
    if (*q == '"') { /* no escapes: the usual case */
        c->p = q + 1;
        if (high < 0x80)
            return ascii_string(s, q - s);
        PyObject *str = PyUnicode_DecodeUTF8((const char *)s, q - s, NULL);
        if (str == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError))
            PyErr_Clear();
        return str;
    }
    /* escapes: decoded into UTF-8 (never longer than the escaped text), then one decode */
    const unsigned char *close = q;
    while (close < c->end && *close != '"') {
        if (*close == '\\')
            close++;
        close++;
    }
    if (close >= c->end)
        return NULL;
    unsigned char stack[256];
    Py_ssize_t cap = close - s;
    unsigned char *buf = cap <= (Py_ssize_t)sizeof(stack) ? stack : PyMem_Malloc(cap);
    if (buf == NULL)
        return PyErr_NoMemory();
    unsigned char *o = buf;
    const unsigned char *r = s;
    PyObject *str = NULL;
    while (r < close) {
        unsigned char ch = *r;
        if (ch < 0x20)
            goto done;
        if (ch != '\\') {
            *o++ = ch;
            r++;
            continue;
        }
        if (r + 1 >= close)
            goto done;
        ch = r[1];
        r += 2;
        switch (ch) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            uint32_t cp, low;
            if (close - r < 4 || read_u16(r, &cp) < 0)
                goto done;
            r += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                goto done; /* a lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (close - r < 6 || r[0] != '\\' || r[1] != 'u' || read_u16(r + 2, &low) < 0
                    || low < 0xDC00 || low > 0xDFFF)
                    goto done; /* a lone high surrogate */
                r += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            put_utf8(&o, cp);
            break;
        }
        default:
            goto done;
        }
    }
    str = PyUnicode_DecodeUTF8((const char *)buf, o - buf, NULL);
    if (str == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError))
        PyErr_Clear();
    c->p = close + 1;
done:
    if (buf != stack)
        PyMem_Free(buf);
    return str;
}

/* An object key at the cursor (at its '"') and the ':' after it: the raw bytes of a key without escapes
 * (field names have none; a key with one is left to msgspec). 0, or -1. */
static int key(Cursor *c, const unsigned char **k, Py_ssize_t *n)
{
    if (peek(c) != '"')
        return -1;
    const unsigned char *s = ++c->p, *q = s;
    while (q < c->end && *q != '"' && *q != '\\' && *q >= 0x20)
        q++;
    if (q >= c->end || *q != '"')
        return -1;
    *k = s;
    *n = q - s;
    c->p = q + 1;
    return eat(c, ':') ? 0 : -1;
}

/* The next member of an object: 1 (its key read, the cursor at its value), 0 (the object ended), -1. ``state``
 * starts at 0 after the '{'. */
static int member(Cursor *c, int *state, const unsigned char **k, Py_ssize_t *n)
{
    int ch = peek(c);
    if (ch == '}') {
        c->p++;
        return 0;
    }
    if (*state) {
        if (ch != ',')
            return -1;
        c->p++;
    }
    *state = 1;
    return key(c, k, n) < 0 ? -1 : 1;
}

/* The next element of an array: 1 (the cursor at it), 0 (the array ended), -1. */
static int element(Cursor *c, int *state)
{
    int ch = peek(c);
    if (ch == ']') {
        c->p++;
        return 0;
    }
    if (*state) {
        if (ch != ',')
            return -1;
        c->p++;
    }
    *state = 1;
    return peek(c) < 0 ? -1 : 1;
}

#define KEY_IS(name) (n == (Py_ssize_t)sizeof(name) - 1 && memcmp(k, name, sizeof(name) - 1) == 0)

/* A JSON number token: its text in [*start, c->p); *integral: no fraction and no exponent. 0, or -1. */
static int number_token(Cursor *c, const unsigned char **start, int *integral)
{
    const unsigned char *s = c->p, *q = s;
    if (q < c->end && *q == '-')
        q++;
    if (q >= c->end || *q < '0' || *q > '9')
        return -1;
    if (*q == '0')
        q++;
    else
        while (q < c->end && *q >= '0' && *q <= '9')
            q++;
    *integral = 1;
    if (q < c->end && *q == '.') {
        *integral = 0;
        q++;
        if (q >= c->end || *q < '0' || *q > '9')
            return -1;
        while (q < c->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < c->end && (*q == 'e' || *q == 'E')) {
        *integral = 0;
        q++;
        if (q < c->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= c->end || *q < '0' || *q > '9')
            return -1;
        while (q < c->end && *q >= '0' && *q <= '9')
            q++;
    }
    *start = s;
    c->p = q;
    return 0;
}

/* [-]digits in [s, e) → int64; 0, or -1 (empty, another character, outside int64). */
static int digits_int64(const unsigned char *s, const unsigned char *e, int allow_minus, int64_t *out)
{
    int negative = 0;
    if (s < e && *s == '-') {
        if (!allow_minus)
            return -1;
        negative = 1;
        s++;
    }
    if (s >= e)
        return -1;
    uint64_t v = 0;
    for (; s < e; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (negative) {
        if (v > (uint64_t)INT64_MAX + 1)
            return -1;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return -1;
        *out = (int64_t)v;
    }
    return 0;
}

/* An Int member (structs.Int: a JSON integer, or a string of one) → int64. ``string_minus``: a string may
 * start with '-' (intValue, flags; Python's int() reads it the same); ``empty``: what "" gives, or -1 when
 * "" is left to msgspec. 0, or -1. */
static int int_member(Cursor *c, int string_minus, int empty_ok, int64_t empty, int64_t *out)
{
    int ch = peek(c);
    if (ch == '"') {
        const unsigned char *s = c->p + 1, *q = s;
        while (q < c->end && *q != '"' && *q != '\\')
            q++;
        if (q >= c->end || *q != '"')
            return -1;
        c->p = q + 1;
        if (q == s) {
            if (!empty_ok)
                return -1;
            *out = empty;
            return 0;
        }
        return digits_int64(s, q, string_minus, out);
    }
    if (ch == '-' || (ch >= '0' && ch <= '9')) {
        const unsigned char *s;
        int integral;
        if (number_token(c, &s, &integral) < 0 || !integral)
            return -1;
        return digits_int64(s, c->p, 1, out);
    }
    return -1;
}

/* A finite JSON number → double, as msgspec reads one into a float: an integer literal as that integer
 * converted (so -0 gives 0.0; one outside int64 is left to msgspec), any other number by Python's own
 * PyOS_string_to_double, which rounds correctly, as msgspec does, whatever the C locale (strtod reads
 * LC_NUMERIC's decimal point). 0, or -1. */
static int double_member(Cursor *c, double *out)
{
    const unsigned char *s;
    int integral;
    int ch = peek(c);
    if (!(ch == '-' || (ch >= '0' && ch <= '9')) || number_token(c, &s, &integral) < 0)
        return -1;
    if (integral) {
        int64_t i;
        if (digits_int64(s, c->p, 1, &i) < 0)
            return -1;
        *out = (double)i;
        return 0;
    }
    size_t n = c->p - s;
    char text[64];
    if (n >= sizeof(text))
        return -1;
    memcpy(text, s, n);
    text[n] = 0;
    double v = PyOS_string_to_double(text, NULL, NULL); /* out of range: ±inf, no exception */
    if (v == -1.0 && PyErr_Occurred())
        return -1;
    if (!isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* Skip an ignored value of any JSON type (its strings still checked, as msgspec would). 0, or -1. */
static int skip(Cursor *c, int depth)
{
    int ch = peek(c), state = 0, r;
    const unsigned char *k, *s;
    Py_ssize_t n;
    if (depth > SKIP_DEPTH)
        return -1;
    switch (ch) {
    case '{':
        c->p++;
        while ((r = member(c, &state, &k, &n)) == 1)
            if (skip(c, depth + 1) < 0)
                return -1;
        return r;
    case '[':
        c->p++;
        while ((r = element(c, &state)) == 1)
            if (skip(c, depth + 1) < 0)
                return -1;
        return r;
    case '"': {
        PyObject *str = string(c);
        if (str == NULL)
            return -1;
        Py_DECREF(str);
        return 0;
    }
    case 't':
        return literal(c, "true", 4);
    case 'f':
        return literal(c, "false", 5);
    case 'n':
        return literal(c, "null", 4);
    default:
        return number_token(c, &s, &r);
    }
}

/* A str member (not null). */
static PyObject *string_member(Cursor *c)
{
    return peek(c) == '"' ? string(c) : NULL;
}

/* ------------------------------------------------------------------------------------------------ */
/* AnyValue, KeyValue                                                                               */

static PyObject *any_value(Cursor *c, int depth);

/* The members of a KeyValueList / attributes list (a JSON array of KeyValue) into ``dict``, each value read at
 * ``depth`` (values.any_value's depth of the list's values). 0, or -1. */
static int key_values(Cursor *c, PyObject *dict, int depth)
{
    int state = 0, r;
    if (!eat(c, '['))
        return -1;
    while ((r = element(c, &state)) == 1) {
        int kv_state = 0, m;
        const unsigned char *k;
        Py_ssize_t n;
        PyObject *name = NULL, *value = NULL;
        if (!eat(c, '{'))
            return -1;
        while ((m = member(c, &kv_state, &k, &n)) == 1) {
            if (KEY_IS("key") && name == NULL) {
                name = string_member(c);
                if (name == NULL)
                    goto fail;
            } else if (KEY_IS("value") && value == NULL) {
                if (peek(c) == 'n') { /* "value": null — no value */
                    if (literal(c, "null", 4) < 0)
                        goto fail;
                    value = Py_NewRef(Py_None);
                } else {
                    value = any_value(c, depth);
                    if (value == NULL)
                        goto fail;
                }
            } else {
                goto fail; /* unknown or repeated */
            }
        }
        if (m < 0 || name == NULL)
            goto fail;
        if (value == NULL)
            value = Py_NewRef(Py_None);
        if (PyDict_SetItem(dict, name, value) < 0)
            goto fail;
        Py_DECREF(name);
        Py_DECREF(value);
        continue;
    fail:
        Py_XDECREF(name);
        Py_XDECREF(value);
        return -1;
    }
    return r;
}

enum { V_STRING, V_INT, V_BOOL, V_DOUBLE, V_ARRAY, V_KVLIST, V_BYTES, V_KINDS };

/* An AnyValue object (not null) at ``depth`` → its Python value as values.any_value gives it: the first
 * member set of string, int, bool, double, array, kvlist, bytes; None for none. NULL when left to msgspec. */
static PyObject *any_value(Cursor *c, int depth)
{
    PyObject *slot[V_KINDS] = {NULL};
    PyObject *result = NULL;
    const unsigned char *k;
    Py_ssize_t n;
    int state = 0, m;
    if (depth > MAX_DEPTH || !eat(c, '{'))
        return NULL;
    while ((m = member(c, &state, &k, &n)) == 1) {
        int kind;
        PyObject *v = NULL;
        if (KEY_IS("stringValue")) {
            kind = V_STRING;
            if (slot[kind] == NULL)
                v = string_member(c);
        } else if (KEY_IS("intValue")) {
            int64_t i;
            kind = V_INT;
            if (slot[kind] == NULL && int_member(c, 1, 0, 0, &i) == 0)
                v = PyLong_FromLongLong(i);
        } else if (KEY_IS("boolValue")) {
            kind = V_BOOL;
            if (slot[kind] == NULL) {
                if (peek(c) == 't' && literal(c, "true", 4) == 0)
                    v = Py_NewRef(Py_True);
                else if (peek(c) == 'f' && literal(c, "false", 5) == 0)
                    v = Py_NewRef(Py_False);
            }
        } else if (KEY_IS("doubleValue")) {
            double d;
            kind = V_DOUBLE;
            if (slot[kind] == NULL && double_member(c, &d) == 0)
                v = PyFloat_FromDouble(d);
        } else if (KEY_IS("arrayValue") || KEY_IS("kvlistValue")) {
            int is_array = n == 10;
            kind = is_array ? V_ARRAY : V_KVLIST;
            if (slot[kind] == NULL && eat(c, '{')) {
                PyObject *values = is_array ? PyList_New(0) : PyDict_New();
                int inner = 0, r = 0, seen = 0;
                if (values == NULL)
                    goto out;
                while (values != NULL && (r = member(c, &inner, &k, &n)) == 1) {
                    if (!KEY_IS("values") || seen++) {
                        Py_CLEAR(values);
                        break;
                    }
                    if (is_array) {
                        int el = 0, e;
                        if (!eat(c, '[')) {
                            Py_CLEAR(values);
                            break;
                        }
                        while ((e = element(c, &el)) == 1) {
                            PyObject *item = any_value(c, depth + 1);
                            if (item == NULL || PyList_Append(values, item) < 0) {
                                Py_XDECREF(item);
                                e = -1;
                                break;
                            }
                            Py_DECREF(item);
                        }
                        if (e < 0)
                            Py_CLEAR(values);
                    } else if (key_values(c, values, depth + 1) < 0) {
                        Py_CLEAR(values);
                    }
                }
                if (values != NULL && r < 0)
                    Py_CLEAR(values);
                v = values;
            }
        } else if (KEY_IS("bytesValue")) {
            kind = V_BYTES;
            if (slot[kind] == NULL)
                v = string_member(c);
        } else {
            goto out; /* a field the form does not declare */
        }
        if (v == NULL)
            goto out; /* repeated, of another type, or invalid */
        slot[kind] = v;
    }
    if (m < 0)
        goto out;
    result = Py_None;
    for (int i = 0; i < V_KINDS; i++)
        if (slot[i] != NULL) {
            result = slot[i];
            break;
        }
    Py_INCREF(result);
out:
    for (int i = 0; i < V_KINDS; i++)
        Py_XDECREF(slot[i]);
    return result;
}

/* An attributes member (a JSON array of KeyValue, not null) → a new dict, as typed._attributes. */
static PyObject *attributes(Cursor *c)
{
    PyObject *dict = PyDict_New();
    if (dict != NULL && key_values(c, dict, 1) < 0)
        Py_CLEAR(dict);
    return dict;
}

/* ------------------------------------------------------------------------------------------------ */
/* ids                                                                                              */

/* A str member of exactly ``2 * size`` hex digits (any case) → its bytes in ``out``. 1 (read), 0 (the member
 * is ""), -1 (anything else). */
static int hex_id(Cursor *c, unsigned char *out, int size)
{
    if (peek(c) != '"')
        return -1;
    const unsigned char *s = c->p + 1;
    if (c->end - s >= 1 && *s == '"') {
        c->p = s + 1;
        return 0;
    }
    if (c->end - s < 2 * size + 1 || s[2 * size] != '"')
        return -1;
    for (int i = 0; i < size; i++) {
        int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    c->p = s + 2 * size + 1;
    return 1;
}

static int all_zero(const unsigned char *b, int size)
{
    for (int i = 0; i < size; i++)
        if (b[i])
            return 0;
    return 1;
}

/* 8 bytes big-endian → the signed int64 span id (values.span_id_int). */
static PyObject *span_id_value(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | b[i];
    return PyLong_FromLongLong((int64_t)v);
}

/* ------------------------------------------------------------------------------------------------ */
/* Span                                                                                             */

enum {
    S_TRACE_ID, S_SPAN_ID, S_PARENT, S_TRACE_STATE, S_NAME, S_KIND, S_START, S_END, S_ATTRIBUTES, S_EVENTS,
    S_LINKS, S_STATUS, S_FLAGS, S_DROPPED_ATTRIBUTES, S_DROPPED_EVENTS, S_DROPPED_LINKS, S_FIELDS
};

/* One Event → (time ns, name, attributes dict), as typed._decode_traces reads it. */
static PyObject *event(Cursor *c)
{
    const unsigned char *k;
    Py_ssize_t n;
    int state = 0, m, seen = 0;
    int64_t time = 0;
    PyObject *name = NULL, *attrs = NULL, *result = NULL;
    if (!eat(c, '{'))
        return NULL;
    while ((m = member(c, &state, &k, &n)) == 1) {
        int bit;
        if (KEY_IS("timeUnixNano")) {
            bit = 1; /* values.fixed64: "" and 0 give 0; a negative time or one beyond int64 is left to it */
            if ((seen & bit) || int_member(c, 0, 1, 0, &time) < 0 || time < 0)
                goto out;
        } else if (KEY_IS("name")) {
            bit = 2;
            if ((seen & bit) || (name = string_member(c)) == NULL)
                goto out;
        } else if (KEY_IS("attributes")) {
            bit = 4;
            if ((seen & bit) || (attrs = attributes(c)) == NULL)
                goto out;
        } else if (KEY_IS("droppedAttributesCount")) {
            bit = 8;
            if ((seen & bit) || skip(c, 0) < 0)
                goto out;
        } else {
            goto out;
        }
        seen |= bit;
    }
    if (m < 0)
        goto out;
    if (name == NULL)
        name = PyUnicode_New(0, 0);
    if (attrs == NULL)
        attrs = PyDict_New();
    if (name != NULL && attrs != NULL)
        result = Py_BuildValue("(LOO)", (long long)time, name, attrs);
out:
    Py_XDECREF(name);
    Py_XDECREF(attrs);
    return result;
}

/* An enum given as a JSON integer in the smallint range (values.enum_value's range; names and strings are
 * left to it). */
static int enum_member(Cursor *c, int64_t *out)
{
    const unsigned char *s;
    int integral, ch = peek(c);
    if (!(ch == '-' || (ch >= '0' && ch <= '9')) || number_token(c, &s, &integral) < 0 || !integral)
        return -1;
    if (digits_int64(s, c->p, 1, out) < 0 || *out < -32768 || *out > 32767)
        return -1;
    return 0;
}

/* A time as typed.py reads a span's or log record's: int(value) in 0 .. 2^63 - 1 ("" is left to it). */
static int time_member(Cursor *c, int64_t *out)
{
    return int_member(c, 0, 0, 0, out) < 0 || *out < 0 ? -1 : 0;
}

/* What span() and log_record() return: ``result``, or None for a record left to msgspec (any error but
 * MemoryError, such as a UnicodeDecodeError, only means that). */
static PyObject *finish(PyObject *result)
{
    if (result == NULL) {
        if (PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_MemoryError))
            PyErr_Clear();
        if (!PyErr_Occurred())
            Py_RETURN_NONE;
    }
    return result;
}

static PyObject *str_or_none(PyObject *str)
{
    /* ``value or None`` of a str member: "" → None (steals the reference) */
    if (PyUnicode_GET_LENGTH(str) == 0) {
        Py_DECREF(str);
        return Py_NewRef(Py_None);
    }
    return str;
}

PyDoc_STRVAR(span_doc,
"span(raw) -> tuple | None\n\n"
"One canonical OTLP/JSON Span object (bytes-like) as typed.py reads it: (trace_id bytes(16), span_id int,\n"
"parent_span_id int | None, trace_state str | None, name str, kind int, start ns, end ns, status code int,\n"
"status message str | None, attributes dict, events [(time ns, name, attributes dict)]); None for a span it\n"
"leaves to msgspec (see the module's doc).");

static PyObject *span(PyObject *Py_UNUSED(module), PyObject *raw)
{
    Py_buffer view;
    if (PyObject_GetBuffer(raw, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    Cursor cur = {view.buf, (const unsigned char *)view.buf + view.len}, *c = &cur;
    unsigned char trace_id[16], span_id[8], parent[8];
    int has_trace = 0, has_span = 0, has_parent = 0;
    int64_t kind = 0, start = 0, end = 0, code = 0;
    PyObject *trace_state = NULL, *name = NULL, *attrs = NULL, *events = NULL, *message = NULL;
    PyObject *result = NULL;
    const unsigned char *k;
    Py_ssize_t n;
    int state = 0, m;
    uint32_t seen = 0;
    if (!eat(c, '{'))
        goto out;
    while ((m = member(c, &state, &k, &n)) == 1) {
        int field;
        switch (n) {
        case 4: field = KEY_IS("name") ? S_NAME : KEY_IS("kind") ? S_KIND : -1; break;
        case 5: field = KEY_IS("flags") ? S_FLAGS : KEY_IS("links") ? S_LINKS : -1; break;
        case 6: field = KEY_IS("spanId") ? S_SPAN_ID : KEY_IS("events") ? S_EVENTS : KEY_IS("status") ? S_STATUS : -1; break;
        case 7: field = KEY_IS("traceId") ? S_TRACE_ID : -1; break;
        case 10: field = KEY_IS("traceState") ? S_TRACE_STATE : KEY_IS("attributes") ? S_ATTRIBUTES : -1; break;
        case 12: field = KEY_IS("parentSpanId") ? S_PARENT : -1; break;
        case 15: field = KEY_IS("endTimeUnixNano") ? S_END : -1; break;
        case 17: field = KEY_IS("startTimeUnixNano") ? S_START : KEY_IS("droppedLinksCount") ? S_DROPPED_LINKS : -1; break;
        case 18: field = KEY_IS("droppedEventsCount") ? S_DROPPED_EVENTS : -1; break;
        case 22: field = KEY_IS("droppedAttributesCount") ? S_DROPPED_ATTRIBUTES : -1; break;
        default: field = -1;
        }
        if (field < 0 || (seen & (1u << field)))
            goto out; /* a field the form does not declare, or a repeated one */
        seen |= 1u << field;
        switch (field) {
        case S_TRACE_ID:
            if ((has_trace = hex_id(c, trace_id, 16)) != 1 || all_zero(trace_id, 16))
                goto out;
            break;
        case S_SPAN_ID:
            if ((has_span = hex_id(c, span_id, 8)) != 1 || all_zero(span_id, 8))
                goto out;
            break;
        case S_PARENT:
            if ((has_parent = hex_id(c, parent, 8)) < 0)
                goto out;
            if (has_parent && all_zero(parent, 8))
                has_parent = 0; /* an all-zero parent is no parent (values.span_id_int, optional) */
            break;
        case S_TRACE_STATE:
            if ((trace_state = string_member(c)) == NULL)
                goto out;
            break;
        case S_NAME:
            if ((name = string_member(c)) == NULL)
                goto out;
            break;
        case S_KIND:
            if (enum_member(c, &kind) < 0)
                goto out;
            break;
        case S_START:
            if (time_member(c, &start) < 0)
                goto out;
            break;
        case S_END:
            if (time_member(c, &end) < 0)
                goto out;
            break;
        case S_ATTRIBUTES:
            if ((attrs = attributes(c)) == NULL)
                goto out;
            break;
        case S_EVENTS: {
            int el = 0, e;
            if (!eat(c, '[') || (events = PyList_New(0)) == NULL)
                goto out;
            while ((e = element(c, &el)) == 1) {
                PyObject *item = event(c);
                if (item == NULL || PyList_Append(events, item) < 0) {
                    Py_XDECREF(item);
                    goto out;
                }
                Py_DECREF(item);
            }
            if (e < 0)
                goto out;
            break;
        }
        case S_LINKS: { /* links are left to msgspec (0.6% of spans); an empty list is read here */
            int el = 0;
            if (!eat(c, '[') || element(c, &el) != 0)
                goto out;
            break;
        }
        case S_STATUS: {
            if (peek(c) == 'n') { /* status: null — no status */
                if (literal(c, "null", 4) < 0)
                    goto out;
                break;
            }
            int inner = 0, sm, status_seen = 0;
            if (!eat(c, '{'))
                goto out;
            while ((sm = member(c, &inner, &k, &n)) == 1) {
                if (KEY_IS("code") && !(status_seen & 1)) {
                    status_seen |= 1;
                    if (enum_member(c, &code) < 0)
                        goto out;
                } else if (KEY_IS("message") && !(status_seen & 2)) {
                    status_seen |= 2;
                    if ((message = string_member(c)) == NULL)
                        goto out;
                } else {
                    goto out;
                }
            }
            if (sm < 0)
                goto out;
            break;
        }
        default: /* flags and dropped counts: any value (structs.Ignored) */
            if (skip(c, 0) < 0)
                goto out;
        }
    }
    if (m < 0 || peek(c) != -1 || !has_trace || !has_span)
        goto out; /* a missing traceId or spanId is left to the value functions (they say why) */
    if (trace_state == NULL)
        trace_state = Py_NewRef(Py_None);
    else if ((trace_state = str_or_none(trace_state)) == NULL)
        goto out;
    if (name == NULL && (name = PyUnicode_New(0, 0)) == NULL)
        goto out;
    if (attrs == NULL && (attrs = PyDict_New()) == NULL)
        goto out;
    if (events == NULL && (events = PyList_New(0)) == NULL)
        goto out;
    if (message == NULL)
        message = Py_NewRef(Py_None);
    else
        message = str_or_none(message);
    PyObject *span_value = span_id_value(span_id);
    PyObject *parent_value = has_parent ? span_id_value(parent) : Py_NewRef(Py_None);
    if (span_value != NULL && parent_value != NULL)
        result = Py_BuildValue("(y#OOOOLLLLOOO)", (const char *)trace_id, (Py_ssize_t)16, span_value, parent_value,
                               trace_state, name, (long long)kind, (long long)start, (long long)end,
                               (long long)code, message, attrs, events);
    Py_XDECREF(span_value);
    Py_XDECREF(parent_value);
out:
    Py_XDECREF(trace_state);
    Py_XDECREF(name);
    Py_XDECREF(attrs);
    Py_XDECREF(events);
    Py_XDECREF(message);
    PyBuffer_Release(&view);
    return finish(result);
}

/* ------------------------------------------------------------------------------------------------ */
/* LogRecord                                                                                        */

enum {
    L_TIME, L_OBSERVED, L_SEVERITY_NUMBER, L_SEVERITY_TEXT, L_BODY, L_ATTRIBUTES, L_FLAGS, L_TRACE_ID, L_SPAN_ID,
    L_EVENT_NAME, L_DROPPED_ATTRIBUTES, L_FIELDS
};

PyDoc_STRVAR(log_record_doc,
"log_record(raw) -> tuple | None\n\n"
"One canonical OTLP/JSON LogRecord object (bytes-like) as typed.py reads it: (time ns, observed time ns,\n"
"trace_id bytes(16) | None, span_id int | None, flags int, severity_number int, severity_text str | None,\n"
"body (its Python value, None without one), event_name str | None, attributes dict); None for a record it\n"
"leaves to msgspec (see the module's doc).");

static PyObject *log_record(PyObject *Py_UNUSED(module), PyObject *raw)
{
    Py_buffer view;
    if (PyObject_GetBuffer(raw, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    Cursor cur = {view.buf, (const unsigned char *)view.buf + view.len}, *c = &cur;
    unsigned char trace_id[16], span_id[8];
    int has_trace = 0, has_span = 0;
    int64_t time = 0, observed = 0, severity = 0, flags = 0;
    PyObject *severity_text = NULL, *body = NULL, *attrs = NULL, *event_name = NULL, *result = NULL;
    const unsigned char *k;
    Py_ssize_t n;
    int state = 0, m;
    uint32_t seen = 0;
    if (!eat(c, '{'))
        goto out;
    while ((m = member(c, &state, &k, &n)) == 1) {
        int field = KEY_IS("timeUnixNano") ? L_TIME
            : KEY_IS("observedTimeUnixNano") ? L_OBSERVED
            : KEY_IS("severityNumber") ? L_SEVERITY_NUMBER
            : KEY_IS("severityText") ? L_SEVERITY_TEXT
            : KEY_IS("body") ? L_BODY
            : KEY_IS("attributes") ? L_ATTRIBUTES
            : KEY_IS("flags") ? L_FLAGS
            : KEY_IS("traceId") ? L_TRACE_ID
            : KEY_IS("spanId") ? L_SPAN_ID
            : KEY_IS("eventName") ? L_EVENT_NAME
            : KEY_IS("droppedAttributesCount") ? L_DROPPED_ATTRIBUTES : -1;
        if (field < 0 || (seen & (1u << field)))
            goto out;
        seen |= 1u << field;
        switch (field) {
        case L_TIME:
            if (time_member(c, &time) < 0)
                goto out;
            break;
        case L_OBSERVED:
            if (time_member(c, &observed) < 0)
                goto out;
            break;
        case L_SEVERITY_NUMBER: /* values.enum_value: "" gives 0; names are left to it */
            if (peek(c) == '"') {
                if (int_member(c, 0, 1, 0, &severity) < 0 || severity > 32767)
                    goto out;
            } else if (enum_member(c, &severity) < 0) {
                goto out;
            }
            break;
        case L_SEVERITY_TEXT:
            if ((severity_text = string_member(c)) == NULL)
                goto out;
            break;
        case L_BODY:
            if (peek(c) == 'n') {
                if (literal(c, "null", 4) < 0)
                    goto out;
            } else if ((body = any_value(c, 1)) == NULL) {
                goto out;
            }
            break;
        case L_ATTRIBUTES:
            if ((attrs = attributes(c)) == NULL)
                goto out;
            break;
        case L_FLAGS: /* values.to_int(flags or 0) */
            if (int_member(c, 1, 1, 0, &flags) < 0)
                goto out;
            break;
        case L_TRACE_ID: /* optional: "" and all zeros give None (values.trace_id_bytes, required=False) */
            if ((has_trace = hex_id(c, trace_id, 16)) < 0)
                goto out;
            if (has_trace && all_zero(trace_id, 16))
                has_trace = 0;
            break;
        case L_SPAN_ID:
            if ((has_span = hex_id(c, span_id, 8)) < 0)
                goto out;
            if (has_span && all_zero(span_id, 8))
                has_span = 0;
            break;
        case L_EVENT_NAME:
            if ((event_name = string_member(c)) == NULL)
                goto out;
            break;
        default:
            if (skip(c, 0) < 0)
                goto out;
        }
    }
    if (m < 0 || peek(c) != -1)
        goto out;
    if (severity_text == NULL)
        severity_text = Py_NewRef(Py_None);
    else if ((severity_text = str_or_none(severity_text)) == NULL)
        goto out;
    if (event_name == NULL)
        event_name = Py_NewRef(Py_None);
    else if ((event_name = str_or_none(event_name)) == NULL)
        goto out;
    if (body == NULL)
        body = Py_NewRef(Py_None);
    if (attrs == NULL && (attrs = PyDict_New()) == NULL)
        goto out;
    PyObject *trace_value = has_trace ? PyBytes_FromStringAndSize((const char *)trace_id, 16) : Py_NewRef(Py_None);
    PyObject *span_value = has_span ? span_id_value(span_id) : Py_NewRef(Py_None);
    if (trace_value != NULL && span_value != NULL)
        result = Py_BuildValue("(LLOOLLOOOO)", (long long)time, (long long)observed, trace_value, span_value,
                               (long long)flags, (long long)severity, severity_text, body, event_name, attrs);
    Py_XDECREF(trace_value);
    Py_XDECREF(span_value);
out:
    Py_XDECREF(severity_text);
    Py_XDECREF(body);
    Py_XDECREF(attrs);
    Py_XDECREF(event_name);
    PyBuffer_Release(&view);
    return finish(result);
}

/* ------------------------------------------------------------------------------------------------ */
/* NumberDataPoint, HistogramDataPoint                                                              */

/* A JSON array (not null) of numbers → a new list. ``doubles`` 0: Int members (bucketCounts) as ints in
 * 0 .. 2^63 - 1, as typed._counts reads them ("" and out-of-range counts are left to it); 1: finite numbers
 * (explicitBounds) as floats, as typed._doubles reads them (strings such as "Infinity" are left to it). NULL for
 * anything else. */
static PyObject *number_list(Cursor *c, int doubles)
{
    int state = 0, r;
    if (!eat(c, '['))
        return NULL;
    PyObject *list = PyList_New(0);
    if (list == NULL)
        return NULL;
    while ((r = element(c, &state)) == 1) {
        PyObject *item;
        if (doubles) {
            double v;
            item = double_member(c, &v) < 0 ? NULL : PyFloat_FromDouble(v);
        } else {
            int64_t v;
            item = int_member(c, 0, 0, 0, &v) < 0 || v < 0 ? NULL : PyLong_FromLongLong(v);
        }
        if (item == NULL || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            break; /* r is still 1: the list is dropped below */
        }
        Py_DECREF(item);
    }
    if (r == 0)
        return list;
    Py_DECREF(list);
    return NULL;
}

/* An exemplars member: only an empty array is read here (exemplars are left to typed._exemplars). */
static int no_exemplars(Cursor *c)
{
    int state = 0;
    return eat(c, '[') && element(c, &state) == 0 ? 0 : -1;
}

/* An optional double (sum, min, max, asDouble): a finite JSON number; absent stays None. */
static PyObject *double_value(Cursor *c)
{
    double v;
    return double_member(c, &v) < 0 ? NULL : PyFloat_FromDouble(v);
}

enum {
    P_ATTRIBUTES, P_START, P_TIME, P_AS_DOUBLE, P_AS_INT, P_EXEMPLARS, P_FLAGS, P_COUNT, P_SUM, P_BUCKET_COUNTS,
    P_EXPLICIT_BOUNDS, P_MIN, P_MAX, P_FIELDS
};

/* The value columns of a data point, between ``time`` and ``aggregation_temporality`` (typed._POINTS). */
#define POINT_COLUMNS 17

/* One NumberDataPoint (``histogram`` 0) or HistogramDataPoint (1) → (start ns, time ns, attributes dict, the
 * 17 value columns as typed._number_point / typed._histogram_point give them), or NULL. */
static PyObject *data_point(PyObject *raw, int histogram)
{
    Py_buffer view;
    if (PyObject_GetBuffer(raw, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    Cursor cur = {view.buf, (const unsigned char *)view.buf + view.len}, *c = &cur;
    int64_t start = 0, time = 0, flags = 0, count = 0, as_int = 0;
    int negative_zero = 0;
    PyObject *attrs = NULL, *value = NULL, *sum = NULL, *min = NULL, *max = NULL, *counts = NULL, *bounds = NULL;
    PyObject *columns = NULL, *result = NULL;
    const unsigned char *k;
    Py_ssize_t n;
    int state = 0, m;
    uint32_t seen = 0;
    if (!eat(c, '{'))
        goto out;
    while ((m = member(c, &state, &k, &n)) == 1) {
        int field = KEY_IS("attributes") ? P_ATTRIBUTES
            : KEY_IS("startTimeUnixNano") ? P_START
            : KEY_IS("timeUnixNano") ? P_TIME
            : KEY_IS("exemplars") ? P_EXEMPLARS
            : KEY_IS("flags") ? P_FLAGS
            : !histogram && KEY_IS("asDouble") ? P_AS_DOUBLE
            : !histogram && KEY_IS("asInt") ? P_AS_INT
            : histogram && KEY_IS("count") ? P_COUNT
            : histogram && KEY_IS("sum") ? P_SUM
            : histogram && KEY_IS("bucketCounts") ? P_BUCKET_COUNTS
            : histogram && KEY_IS("explicitBounds") ? P_EXPLICIT_BOUNDS
            : histogram && KEY_IS("min") ? P_MIN
            : histogram && KEY_IS("max") ? P_MAX : -1;
        if (field < 0 || (seen & (1u << field)))
            goto out;
        seen |= 1u << field;
        switch (field) {
        case P_ATTRIBUTES:
            if ((attrs = attributes(c)) == NULL)
                goto out;
            break;
        case P_START: /* typed._decode_metrics: an int in 0 .. 2^63 - 1 ("" is left to values.time_ns) */
            if (time_member(c, &start) < 0)
                goto out;
            break;
        case P_TIME:
            if (time_member(c, &time) < 0)
                goto out;
            break;
        case P_AS_DOUBLE:
            if ((value = double_value(c)) == NULL)
                goto out;
            break;
        case P_AS_INT: /* float(value) in the int64 range (values.opt_float): a string "-0" gives -0.0 */
            negative_zero = peek(c) == '"' && c->p + 1 < c->end && c->p[1] == '-';
            if (int_member(c, 1, 0, 0, &as_int) < 0)
                goto out;
            negative_zero = negative_zero && as_int == 0;
            break;
        case P_EXEMPLARS:
            if (no_exemplars(c) < 0)
                goto out;
            break;
        case P_FLAGS: /* values.int32(flags, "flags") */
            if (int_member(c, 1, 1, 0, &flags) < 0 || flags < INT32_MIN || flags > INT32_MAX)
                goto out;
            break;
        case P_COUNT: /* values.fixed64(count, "count") */
            if (int_member(c, 0, 1, 0, &count) < 0 || count < 0)
                goto out;
            break;
        case P_SUM:
            if ((sum = double_value(c)) == NULL)
                goto out;
            break;
        case P_MIN:
            if ((min = double_value(c)) == NULL)
                goto out;
            break;
        case P_MAX:
            if ((max = double_value(c)) == NULL)
                goto out;
            break;
        case P_BUCKET_COUNTS:
            if ((counts = number_list(c, 0)) == NULL)
                goto out;
            break;
        case P_EXPLICIT_BOUNDS:
            if ((bounds = number_list(c, 1)) == NULL)
                goto out;
            break;
        }
    }
    if (m < 0 || peek(c) != -1)
        goto out;
    if (attrs == NULL && (attrs = PyDict_New()) == NULL)
        goto out;
    /* asDouble wins over asInt (typed._number_point) */
    if (value == NULL && (seen & (1u << P_AS_INT)) && (value = PyFloat_FromDouble(negative_zero ? -0.0 : (double)as_int)) == NULL)
        goto out;
    if (histogram) {
        if (counts == NULL && (counts = PyList_New(0)) == NULL)
            goto out;
        if (bounds == NULL && (bounds = PyList_New(0)) == NULL)
            goto out;
    }
    PyObject *flags_value = PyLong_FromLongLong(flags);
    PyObject *count_value = histogram ? PyLong_FromLongLong(count) : Py_NewRef(Py_None);
    if (flags_value != NULL && count_value != NULL) {
        /* value, count, sum, min, max, bucket_counts, explicit_bounds, then None up to flags */
        PyObject *items[POINT_COLUMNS] = {value, count_value, sum, min, max, counts, bounds};
        items[POINT_COLUMNS - 1] = flags_value;
        if ((columns = PyTuple_New(POINT_COLUMNS)) != NULL)
            for (Py_ssize_t i = 0; i < POINT_COLUMNS; i++)
                PyTuple_SET_ITEM(columns, i, Py_NewRef(items[i] != NULL ? items[i] : Py_None));
    }
    Py_XDECREF(flags_value);
    Py_XDECREF(count_value);
    if (columns == NULL)
        goto out;
    result = Py_BuildValue("(LLOO)", (long long)start, (long long)time, attrs, columns);
out:
    Py_XDECREF(attrs);
    Py_XDECREF(value);
    Py_XDECREF(sum);
    Py_XDECREF(min);
    Py_XDECREF(max);
    Py_XDECREF(counts);
    Py_XDECREF(bounds);
    Py_XDECREF(columns);
    PyBuffer_Release(&view);
    return finish(result);
}

PyDoc_STRVAR(number_point_doc,
"number_point(raw) -> tuple | None\n\n"
"One canonical OTLP/JSON NumberDataPoint object (bytes-like; metrics/v1/metrics.proto) as typed.py reads it:\n"
"(start ns, time ns, attributes dict, the 17 value columns of typed._number_point); None for a point it\n"
"leaves to msgspec (see the module's doc; also: a point with exemplars, a value given as a string other than\n"
"[-]digits, such as \"NaN\" or \"+5\").");

static PyObject *number_point(PyObject *Py_UNUSED(module), PyObject *raw)
{
    return data_point(raw, 0);
}

PyDoc_STRVAR(histogram_point_doc,
"histogram_point(raw) -> tuple | None\n\n"
"One canonical OTLP/JSON HistogramDataPoint object (bytes-like) as typed.py reads it: (start ns, time ns,\n"
"attributes dict, the 17 value columns of typed._histogram_point); None for a point it leaves to msgspec\n"
"(see the module's doc; also: a point with exemplars, a bound given as a string).");

static PyObject *histogram_point(PyObject *Py_UNUSED(module), PyObject *raw)
{
    return data_point(raw, 1);
}

static PyMethodDef methods[] = {
    {"span", span, METH_O, span_doc},
    {"log_record", log_record, METH_O, log_record_doc},
    {"number_point", number_point, METH_O, number_point_doc},
    {"histogram_point", histogram_point, METH_O, histogram_point_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_records",
    "The per-record step of the OTLP/JSON fast path, compiled (see _records.c).", -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__records(void)
{
    return PyModule_Create(&module);
}
