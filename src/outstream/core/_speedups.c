/* The compiled halves of two hot loops, built where a C compiler is at hand
   (setup.py marks the module optional; without it the Python halves run,
   slower, to the same results):

   - count: grapheme clusters (UAX #29) and words (str.split()) in one pass,
     for --stats (core/counts.py);
   - clean_utf8: whether UTF-8 spells any character the sanitizer acts on,
     for the escape scan (core/escapes.py).

   Counting. Theory of operation: a cluster boundary depends on the two
   characters on either side of it and on a little of what came before
   (GB9c: a consonant and a linker since; GB11: a pictograph, extenders and
   a ZWJ; GB12/13: how many regional indicators in a row). All of it fits in
   one small integer, so the text can be given in pieces, cut anywhere, and
   the state carried from one to the next: the clusters are the boundaries
   counted, the words the starts of non-space runs counted.

   The properties come from Python, one byte a code point, read from the
   tables of the `regex` module that segments with \X (counts.py builds
   them), so both halves count on the same version of Unicode. counts.py
   reads them a block of code points at a time, the first time a text holds
   one of the block: a byte not read yet is UNKNOWN, and count() stops
   before such a character and says where, to be called again from there
   once its block is read.

   Most characters are plain (letters, digits, punctuation, CJK, emoji,
   spaces, line ends: see PLAIN): between two of them there is always a
   boundary, so a run of them is only looked at for its words, runs of ASCII
   a block of characters at a time. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* A property byte: the Grapheme_Cluster_Break value in the low four bits,
   then Extended_Pictographic, Indic_Conjunct_Break (two bits), and
   whitespace as str.isspace() has it. */
enum {
    OTHER, LF, CONTROL, SPARE /* in no table: see PLAIN */, CR, EXTEND, ZWJ, RI,
    PREPEND, SPACING_MARK, L, V, T, LV, LVT, SOT /* start of text: no character yet */
};
#define GCB(p) ((p) & 0x0F)
#define EXT_PICT 0x10
#define INCB(p) (((p) >> 5) & 3)
enum { INCB_NONE, INCB_CONSONANT, INCB_LINKER, INCB_EXTEND };
#define SPACE 0x80
#define TABLE_SIZE 0x110000
/* A code point whose properties are not read yet: the value in no table,
   and not plain (see PLAIN), so that only the careful path meets it. */
#define UNKNOWN (SPARE | 0x40)

/* The state between two characters, packed in an int:
   bits 0-3 the previous character's GCB (SOT at the start),
   bits 4-5 GB9c: 0 nothing, 1 a consonant then [Extend Linker]*, 2 with a linker among them,
   bits 6-7 GB11: 0 nothing, 1 a pictograph then Extend*, 2 then a ZWJ,
   bit 8: an odd number of regional indicators in a row end here,
   bit 9: the text ends inside a word. */
#define ST_INCB(s) (((s) >> 4) & 3)
#define ST_PICT(s) (((s) >> 6) & 3)
#define ST_RI_ODD 0x100
#define ST_IN_WORD 0x200

/* For a previous and a next GCB: 0 a boundary between them, 1 none, 2 it
   depends on what came before (GB9c, GB11, GB12/13). */
static unsigned char pair[16][16];

static void
fill_pair(void)
{
    for (int p = 0; p < 16; p++) {
        for (int c = 0; c < 16; c++) {
            int keep;
            if (p == SOT)
                keep = 0;  /* GB1 */
            else if (p == CR && c == LF)
                keep = 1;  /* GB3 */
            else if (p == CR || p == LF || p == CONTROL)
                keep = 0;  /* GB4 */
            else if (c == CR || c == LF || c == CONTROL)
                keep = 0;  /* GB5 */
            else if (p == L && (c == L || c == V || c == LV || c == LVT))
                keep = 1;  /* GB6 */
            else if ((p == LV || p == V) && (c == V || c == T))
                keep = 1;  /* GB7 */
            else if ((p == LVT || p == T) && c == T)
                keep = 1;  /* GB8 */
            else if (c == EXTEND || c == ZWJ || c == SPACING_MARK)
                keep = 1;  /* GB9, GB9a */
            else if (p == PREPEND)
                keep = 1;  /* GB9b */
            else
                keep = 2;  /* GB9c, GB11, GB12/13 may keep it; else GB999 */
            pair[p][c] = (unsigned char)keep;
        }
    }
}

/* Whether a property byte is plain: GCB Other, LF or Control, and no
   Indic_Conjunct_Break but Consonant. Between two plain characters there is
   always a boundary (GB9c and GB11 join a consonant or a pictograph only to
   a linker or a ZWJ before it, which are not plain). Plain values are 0 to
   2, the value 3 is in no table, and every other value and property has a
   bit of 0x4C: characters are all plain when the OR of their properties is.
   (UNKNOWN has one too.) */
#define PLAIN(p) (((p) & 0x4C) == 0)

typedef struct {
    Py_ssize_t chars, joins, words;
    unsigned int prev, in_space;
    int incb, pict, ri_odd;
} Scan;

/* Whether the next character may take the plain path: after a CR (GB3) or a
   Prepend (GB9b), even a plain one may join, and after a consonant and a
   linker (GB9c) or a pictograph and a ZWJ (GB11), a consonant or a
   pictograph may. */
static inline int
plain_may_follow(const Scan *sc)
{
    return sc->prev != PREPEND && sc->prev != CR && sc->incb != 2 && sc->pict != 2;
}

/* A plain character with property `p`. */
static inline void
plain_step(Scan *sc, unsigned int p)
{
    unsigned int space = p >> 7;
    sc->words += sc->in_space & (space ^ 1);
    sc->in_space = space;
}

/* After a run of plain characters, the last of them with property `last`. */
static inline void
plain_end(Scan *sc, unsigned int last)
{
    sc->prev = GCB(last);
    sc->incb = INCB(last) == INCB_CONSONANT;
    sc->pict = (last & EXT_PICT) != 0;
    sc->ri_odd = 0;
}

/* Runs of ASCII are read BLOCK characters at a time, in loops compilers
   vectorize (no branch, no table). Every ASCII character but CR is plain
   (GCB Other, LF or Control, no other property), and str.isspace() holds of
   HT to CR, FS to US and the space (a test keeps these facts checked against
   the table). `last` is set to the property of the last character read. */
#define BLOCK 64
#define ASCII_SPACE(CHAR_T, c)                                                    \
    (unsigned char)(((c) == 0x20) | ((CHAR_T)((c) - 0x09) < 5) | ((CHAR_T)((c) - 0x1C) < 4))
#define ASCII_BLOCKS(CHAR_T, s, i, n, sc, last)                                   \
    while ((i) + BLOCK <= (n)) {                                                  \
        const CHAR_T *b = (s) + (i);                                              \
        /* A look at three first: most blocks of other text fail there. */       \
        if ((b[0] | b[BLOCK / 2] | b[BLOCK - 1]) >= 0x80)                         \
            break;                                                                \
        CHAR_T other = 0;                                                         \
        for (int k = 0; k < BLOCK; k++)                                           \
            other |= (CHAR_T)((b[k] >= 0x80) | (b[k] == 0x0D));                   \
        if (other)                                                                \
            break;                                                                \
        /* In the character type, so that compilers fill their vectors. */       \
        CHAR_T starts = (CHAR_T)((sc).in_space & !ASCII_SPACE(CHAR_T, b[0]));     \
        for (int k = 1; k < BLOCK; k++)                                           \
            starts += (CHAR_T)(ASCII_SPACE(CHAR_T, b[k - 1])                      \
                               & (ASCII_SPACE(CHAR_T, b[k]) ^ 1));                \
        (sc).words += starts;                                                     \
        (sc).in_space = ASCII_SPACE(CHAR_T, b[BLOCK - 1]);                        \
        (last) = table[b[BLOCK - 1]];                                             \
        (i) += BLOCK;                                                             \
    }

/* Any character with property `p`, by the rules. */
static inline void
step(Scan *sc, unsigned int p)
{
    unsigned int g = GCB(p);
    plain_step(sc, p);
    int keep = pair[sc->prev][g];
    if (keep == 2) {
        if (g == RI)
            keep = sc->ri_odd;  /* GB12, GB13 */
        else if (sc->incb == 2 && INCB(p) == INCB_CONSONANT)
            keep = 1;  /* GB9c */
        else if (sc->pict == 2 && (p & EXT_PICT))
            keep = 1;  /* GB11 */
        else
            keep = 0;
    }
    sc->joins += keep;
    /* What this character leaves for the next. */
    switch (INCB(p)) {
    case INCB_CONSONANT:
        sc->incb = 1;
        break;
    case INCB_LINKER:
        sc->incb = sc->incb ? 2 : 0;
        break;
    case INCB_EXTEND:
        break;
    default:
        sc->incb = 0;
    }
    if (p & EXT_PICT)
        sc->pict = 1;
    else if (g == EXTEND)
        sc->pict = sc->pict == 1 ? 1 : 0;
    else if (g == ZWJ)
        sc->pict = sc->pict == 1 ? 2 : 0;
    else
        sc->pict = 0;
    sc->ri_odd = g == RI ? !sc->ri_odd : 0;
    sc->prev = g;
}

/* The loop over one kind of str from `start`: runs of plain characters
   (ASCII a block at a time, then the rest one by one through the next
   block's worth), then one by the rules; up to the end, or to a character
   whose properties are UNKNOWN. The characters read are in sc.chars. */
#define COUNT_STR(CHAR_T)                                                         \
    do {                                                                          \
        const CHAR_T *s = (const CHAR_T *)data;                                   \
        Py_ssize_t i = start;                                                     \
        while (i < n) {                                                           \
            if (plain_may_follow(&sc)) {                                          \
                Py_ssize_t first = i;                                             \
                unsigned int last = 0;                                            \
                for (int plain = 1; plain && i < n;) {                            \
                    ASCII_BLOCKS(CHAR_T, s, i, n, sc, last);                      \
                    Py_ssize_t stop = i + BLOCK < n ? i + BLOCK : n;              \
                    /* Four at a time while all four are plain. */                \
                    for (; i + 4 <= stop; i += 4) {                               \
                        unsigned int q0 = table[s[i]], q1 = table[s[i + 1]];      \
                        unsigned int q2 = table[s[i + 2]], q3 = table[s[i + 3]];  \
                        if (!PLAIN(q0 | q1 | q2 | q3))                            \
                            break;                                                \
                        unsigned int s0 = q0 >> 7, s1 = q1 >> 7;                  \
                        unsigned int s2 = q2 >> 7, s3 = q3 >> 7;                  \
                        sc.words += (sc.in_space & (s0 ^ 1)) + (s0 & (s1 ^ 1))    \
                                    + (s1 & (s2 ^ 1)) + (s2 & (s3 ^ 1));          \
                        sc.in_space = s3;                                         \
                        last = q3;                                                \
                    }                                                             \
                    for (; i < stop; i++) {                                       \
                        unsigned int q = table[s[i]];                             \
                        if (!PLAIN(q)) {                                          \
                            plain = 0;                                            \
                            break;                                                \
                        }                                                         \
                        plain_step(&sc, q);                                       \
                        last = q;                                                 \
                    }                                                             \
                }                                                                 \
                if (i > first)                                                    \
                    plain_end(&sc, last);                                         \
                if (i >= n)                                                       \
                    break;                                                        \
            }                                                                     \
            unsigned int p = table[s[i]];                                         \
            if (p == UNKNOWN)                                                     \
                break;                                                            \
            step(&sc, p);                                                         \
            i++;                                                                  \
        }                                                                         \
        sc.chars = i - start;                                                     \
    } while (0)

static void
count_str(Scan *sc_out, const unsigned char *table, int kind,
          const void *data, Py_ssize_t start, Py_ssize_t n)
{
    Scan sc = *sc_out;
    switch (kind) {
    case PyUnicode_1BYTE_KIND:
        COUNT_STR(Py_UCS1);
        break;
    case PyUnicode_2BYTE_KIND:
        COUNT_STR(Py_UCS2);
        break;
    default:
        COUNT_STR(Py_UCS4);
        break;
    }
    *sc_out = sc;
}

static Scan
unpack(long state)
{
    Scan sc = {0, 0, 0, (unsigned int)(state & 0x0F), (state & ST_IN_WORD) == 0,
               ST_INCB(state), ST_PICT(state), (state & ST_RI_ODD) != 0};
    return sc;
}

static long
pack(const Scan *sc)
{
    return (long)sc->prev | (long)sc->incb << 4 | (long)sc->pict << 6
           | (sc->ri_odd ? ST_RI_ODD : 0) | (sc->in_space ? 0 : ST_IN_WORD);
}

PyDoc_STRVAR(count_doc,
"count(text, table, state, start) -> (clusters, words, state, stop)\n\n"
"The grapheme clusters and the words that start in text[start:stop], the\n"
"state to go on with (START_STATE before the first piece), and where it\n"
"stopped: at the end, or at a character whose byte in `table` is UNKNOWN.\n"
"`table` (a bytearray, as counts.py builds it) holds a property byte for\n"
"each code point.");

static PyObject *
speedups_count(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "count() takes text, table, state and start");
        return NULL;
    }
    PyObject *text = args[0], *table = args[1];
    if (!PyUnicode_Check(text) || !PyByteArray_Check(table)) {
        PyErr_SetString(PyExc_TypeError, "count() takes a str and a bytearray table");
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    /* Before 3.12 a str made by the old wchar_t API may not be ready yet:
       its kind, data and length are filled in here. */
    if (PyUnicode_READY(text) < 0)
        return NULL;
#endif
    long state = PyLong_AsLong(args[2]);
    if (state == -1 && PyErr_Occurred())
        return NULL;
    if (state < 0 || state >= 0x400 || (state & 0x0F) > SOT) {
        PyErr_SetString(PyExc_ValueError, "not a state count() returned");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    Py_ssize_t start = PyLong_AsSsize_t(args[3]);
    if (start == -1 && PyErr_Occurred())
        return NULL;
    if (start < 0 || start > n) {
        PyErr_SetString(PyExc_ValueError, "start is not in the text");
        return NULL;
    }
    /* The export keeps the table from being resized while the GIL is let
       go. Blocks of it may be read meanwhile in another thread (counts.py):
       a byte then reads UNKNOWN, and this stops there, or its new value. */
    Py_buffer view;
    if (PyObject_GetBuffer(table, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    if (view.len != TABLE_SIZE) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "the table holds one byte for each code point");
        return NULL;
    }
    const unsigned char *t = (const unsigned char *)view.buf;
    Scan sc = unpack(state);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_BEGIN_ALLOW_THREADS
    count_str(&sc, t, kind, data, start, n);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return Py_BuildValue("(nnln)", sc.chars - sc.joins, sc.words, pack(&sc), start + sc.chars);
}

/* --- the escape scan --- */

/* Whether a byte `b`, followed by `b1` and `b2` (0 past the end), starts a
   character the sanitizer acts on: C0 but HT and LF, DEL, C1 (C2 80-9F),
   the bidi embeddings and overrides (E2 80 AA-AE) and isolates (E2 81
   A6-A9). As escapes.py's _SPECIAL, in UTF-8. Without a branch or a table,
   so that compilers vectorize the loop below. */
static inline unsigned char
special(unsigned char b, unsigned char b1, unsigned char b2)
{
    return (unsigned char)(
        (b < 0x09) | ((unsigned char)(b - 0x0B) < 0x15) | (b == 0x7F)
        | ((b == 0xC2) & ((unsigned char)(b1 - 0x80) < 0x20))
        | ((b == 0xE2) & (((b1 == 0x80) & ((unsigned char)(b2 - 0xAA) < 5))
                          | ((b1 == 0x81) & ((unsigned char)(b2 - 0xA6) < 4)))));
}

static int
clean_utf8(const unsigned char *s, Py_ssize_t n)
{
    Py_ssize_t i = 0;
    /* Sixty-four bytes at a time, each with the two after it: about 0.3 ns
       a byte, against 1.6 in Python on mixed text. */
    for (; i + 66 <= n; i += 64) {
        unsigned char found = 0;
        for (int k = 0; k < 64; k++)
            found |= special(s[i + k], s[i + k + 1], s[i + k + 2]);
        if (found)
            return 0;
    }
    for (; i < n; i++)
        if (special(s[i], i + 1 < n ? s[i + 1] : 0, i + 2 < n ? s[i + 2] : 0))
            return 0;
    return 1;
}

PyDoc_STRVAR(clean_utf8_doc,
"clean_utf8(data) -> bool\n\n"
"Whether UTF-8 `data` spells none of the characters the sanitizer acts on\n"
"(C0 but HT and LF, DEL, C1, the bidi controls).");

static PyObject *
speedups_clean_utf8(PyObject *module, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    int clean;
    Py_BEGIN_ALLOW_THREADS
    clean = clean_utf8((const unsigned char *)view.buf, view.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyBool_FromLong(clean);
}

static PyMethodDef speedups_methods[] = {
    {"count", (PyCFunction)(void (*)(void))speedups_count, METH_FASTCALL, count_doc},
    {"clean_utf8", speedups_clean_utf8, METH_O, clean_utf8_doc},
    {NULL, NULL, 0, NULL},
};

static int
speedups_exec(PyObject *module)
{
    fill_pair();
    if (PyModule_AddIntConstant(module, "START_STATE", SOT) < 0)
        return -1;
    if (PyModule_AddIntConstant(module, "UNKNOWN", UNKNOWN) < 0)
        return -1;
    /* The GCB values in the order of their numbers, for counts.py to build
       the table with. */
    PyObject *values = Py_BuildValue(
        "(sssssssssssssss)", "Other", "LF", "Control", "", "CR", "Extend", "ZWJ", "RI",
        "Prepend", "SpacingMark", "L", "V", "T", "LV", "LVT");
    if (values == NULL)
        return -1;
    if (PyModule_AddObject(module, "GCB_VALUES", values) < 0) {
        Py_DECREF(values);
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot speedups_slots[] = {
    {Py_mod_exec, speedups_exec},
    {0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    "outstream.core._speedups",
    "The compiled halves of counts.py's counting and escapes.py's scan.",
    0,
    speedups_methods,
    speedups_slots,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
