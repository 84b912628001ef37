/* The per-span step of LlmSources.add (observatory_etl/llm/mapping.py), compiled: the pass over a span's
 * attributes that keeps the values of the source attributes and notes the indexed message keys.
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

static PyMethodDef methods[] = {
    {"collect", (PyCFunction)(void (*)(void))collect, METH_FASTCALL, collect_doc},
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
