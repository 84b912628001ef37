/* The per-span steps of LlmSources.add (observatory_etl/llm/mapping.py), compiled: the pass over a span's
 * attributes that keeps the values of the source attributes and notes the indexed message keys (collect), and
 * the gathering of those keys into messages (indexed).
 * tests/llm/test_sources_accel.py checks that LlmSources holds the same values with and without it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int starts_with_any(PyObject *key, PyObject *prefixes)
{
    Py_ssize_t n = PyTuple_GET_SIZE(prefixes);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t r = PyUnicode_Tailmatch(key, PyTuple_GET_ITEM(prefixes, i), 0, PY_SSIZE_T_MAX, -1);
        if (r != 0)
            return (int)r; /* 1, or -1 with an error set */
    }
    return 0;
}

PyDoc_STRVAR(collect_doc,
"collect(attributes, sparse, rows, row, prefixes, indexed_prefixes) -> list[str] | None\n\n"
"LlmSources.add's pass over one span's attributes (a dict {key: value}): None when no key starts with one\n"
"of ``prefixes`` (not a GenAI span). Otherwise ``row`` is appended to ``rows``, every source attribute's\n"
"value that is not None is kept in ``sparse`` (key -> (positions, values): the span's position in ``rows``\n"
"and the value appended), and the keys that are no source and start with one of ``indexed_prefixes`` are\n"
"returned, in the attributes' order.");

static PyObject *collect(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "collect() takes 6 arguments");
        return NULL;
    }
    PyObject *attributes = args[0], *sparse = args[1], *rows = args[2], *row = args[3];
    PyObject *prefixes = args[4], *indexed_prefixes = args[5];
    if (!PyDict_Check(attributes) || !PyDict_Check(sparse) || !PyList_Check(rows) || !PyTuple_Check(prefixes)
        || !PyTuple_Check(indexed_prefixes)) {
        PyErr_SetString(PyExc_TypeError, "collect(dict, dict, list, int, tuple, tuple)");
        return NULL;
    }
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    int genai = 0;
    while (PyDict_Next(attributes, &pos, &key, &value)) {
        if (!PyUnicode_Check(key))
            continue; /* str.startswith would raise for it; attribute keys are always str */
        int r = starts_with_any(key, prefixes);
        if (r < 0)
            return NULL;
        if (r) {
            genai = 1;
            break;
        }
    }
    if (!genai)
        Py_RETURN_NONE;
    PyObject *position = PyLong_FromSsize_t(PyList_GET_SIZE(rows));
    if (position == NULL || PyList_Append(rows, row) < 0) {
        Py_XDECREF(position);
        return NULL;
    }
    PyObject *indexed = PyList_New(0);
    if (indexed == NULL) {
        Py_DECREF(position);
        return NULL;
    }
    pos = 0;
    while (PyDict_Next(attributes, &pos, &key, &value)) {
        PyObject *kept = PyDict_GetItemWithError(sparse, key);
        if (kept == NULL) {
            if (PyErr_Occurred())
                goto fail;
            int r = PyUnicode_Check(key) ? starts_with_any(key, indexed_prefixes) : 0;
            if (r < 0 || (r && PyList_Append(indexed, key) < 0))
                goto fail;
        } else if (value != Py_None) {
            if (!PyTuple_Check(kept) || PyTuple_GET_SIZE(kept) != 2) {
                PyErr_SetString(PyExc_TypeError, "sparse values must be (positions, values) tuples");
                goto fail;
            }
            if (PyList_Append(PyTuple_GET_ITEM(kept, 0), position) < 0
                || PyList_Append(PyTuple_GET_ITEM(kept, 1), value) < 0)
                goto fail;
        }
    }
    Py_DECREF(position);
    return indexed;
fail:
    Py_DECREF(position);
    Py_DECREF(indexed);
    return NULL;
}

PyDoc_STRVAR(indexed_doc,
"indexed(attributes, keys, families) -> dict[str, list[dict]] | None\n\n"
"mapping._indexed, compiled: the indexed message attributes among ``keys`` (each starting with one of the\n"
"families' prefixes) gathered into one dict per index, in index order, per family. ``families`` is a tuple of\n"
"(prefix, name, infix) (ASCII: ``gen_ai.prompt.``, ``openllmetry_input``, ``\"\"``). A key is kept when the\n"
"rest after its prefix is ``<index>.<field>``, the index decimal digits and the field ``infix`` followed by at\n"
"least one character; it sets ``field[len(infix):]`` of the index's dict to the attribute's value. Returns None\n"
"(the caller then runs the Python version) for an index holding a non-ASCII character (str.isdecimal accepts\n"
"other scripts' digits) or more than 18 digits.");

static PyObject *indexed(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyDict_Check(args[0]) || !PyList_Check(args[1]) || !PyTuple_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "indexed(dict, list, tuple)");
        return NULL;
    }
    PyObject *attributes = args[0], *keys = args[1], *families = args[2];
    PyObject *found = PyDict_New(); /* name -> {index: {field: value}} */
    if (found == NULL)
        return NULL;
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(keys); k++) {
        PyObject *key = PyList_GET_ITEM(keys, k);
        if (!PyUnicode_Check(key))
            goto fallback;
        Py_ssize_t size;
        const char *text = PyUnicode_AsUTF8AndSize(key, &size);
        if (text == NULL)
            goto fallback_clear; /* a lone surrogate: Python's version decides */
        PyObject *family = NULL;
        Py_ssize_t plen = 0;
        for (Py_ssize_t f = 0; f < PyTuple_GET_SIZE(families); f++) {
            PyObject *candidate = PyTuple_GET_ITEM(families, f);
            Py_ssize_t length;
            const char *prefix = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(candidate, 0), &length);
            if (prefix == NULL)
                goto error;
            if (length <= size && memcmp(text, prefix, (size_t)length) == 0) {
                family = candidate;
                plen = length;
                break;
            }
        }
        if (family == NULL)
            goto fallback;
        Py_ssize_t at = plen;
        long long index = 0;
        while (at < size && text[at] != '.') {
            unsigned char c = (unsigned char)text[at];
            if (c >= 0x80 || at - plen >= 18)
                goto fallback;
            if (c < '0' || c > '9')
                index = -1; /* not decimal: the key is skipped (after checking the rest is ASCII-free of digits) */
            else if (index >= 0)
                index = index * 10 + (c - '0');
            at++;
        }
        if (at == size || at == plen || index < 0)
            continue; /* no dot after the index, an empty index, or one that is not decimal */
        Py_ssize_t infix_length;
        const char *infix = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(family, 2), &infix_length);
        if (infix == NULL)
            goto error;
        Py_ssize_t field = at + 1;
        if (size - field <= infix_length || memcmp(text + field, infix, (size_t)infix_length) != 0)
            continue;
        /* everything before the field's rest is ASCII, so its offset in characters is its offset in bytes */
        PyObject *rest = PyUnicode_Substring(key, field + infix_length, PY_SSIZE_T_MAX);
        PyObject *value = rest ? PyDict_GetItemWithError(attributes, key) : NULL;
        if (value == NULL) {
            Py_XDECREF(rest);
            if (!PyErr_Occurred())
                PyErr_SetObject(PyExc_KeyError, key);
            goto error;
        }
        PyObject *name = PyTuple_GET_ITEM(family, 1);
        PyObject *rows = PyDict_GetItemWithError(found, name);
        if (rows == NULL) {
            if (PyErr_Occurred() || (rows = PyDict_New()) == NULL || PyDict_SetItem(found, name, rows) < 0) {
                Py_XDECREF(rows);
                Py_DECREF(rest);
                goto error;
            }
            Py_DECREF(rows); /* found holds it */
        }
        PyObject *number = PyLong_FromLongLong(index);
        PyObject *fields = number ? PyDict_GetItemWithError(rows, number) : NULL;
        if (fields == NULL) {
            if (number == NULL || PyErr_Occurred() || (fields = PyDict_New()) == NULL
                || PyDict_SetItem(rows, number, fields) < 0) {
                Py_XDECREF(number);
                Py_XDECREF(fields);
                Py_DECREF(rest);
                goto error;
            }
            Py_DECREF(fields); /* rows holds it */
        }
        Py_DECREF(number);
        int failed = PyDict_SetItem(fields, rest, value);
        Py_DECREF(rest);
        if (failed < 0)
            goto error;
    }
    PyObject *result = PyDict_New();
    if (result == NULL)
        goto error;
    PyObject *name, *rows;
    Py_ssize_t pos = 0;
    while (PyDict_Next(found, &pos, &name, &rows)) {
        PyObject *order = PyDict_Keys(rows);
        if (order == NULL || PyList_Sort(order) < 0) {
            Py_XDECREF(order);
            Py_DECREF(result);
            goto error;
        }
        Py_ssize_t n = PyList_GET_SIZE(order);
        PyObject *list = PyList_New(n);
        if (list == NULL) {
            Py_DECREF(order);
            Py_DECREF(result);
            goto error;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *fields = PyDict_GetItem(rows, PyList_GET_ITEM(order, i)); /* borrowed, present */
            Py_INCREF(fields);
            PyList_SET_ITEM(list, i, fields);
        }
        Py_DECREF(order);
        int failed = PyDict_SetItem(result, name, list);
        Py_DECREF(list);
        if (failed < 0) {
            Py_DECREF(result);
            goto error;
        }
    }
    Py_DECREF(found);
    return result;
fallback_clear:
    PyErr_Clear();
fallback:
    Py_DECREF(found);
    Py_RETURN_NONE;
error:
    Py_DECREF(found);
    return NULL;
}

static PyMethodDef methods[] = {
    {"collect", (PyCFunction)(void (*)(void))collect, METH_FASTCALL, collect_doc},
    {"indexed", (PyCFunction)(void (*)(void))indexed, METH_FASTCALL, indexed_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_sources", "LlmSources.add's pass over a span's attributes, compiled (see _sources.c).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__sources(void)
{
    return PyModule_Create(&module);
}
