/* json.h: a small streaming JSON writer (RFC 8259) with deterministic
 * number formatting, so identical runs give byte-identical files. Commas and
 * indentation are handled by the writer; the caller says begin/end/key/value. */
#ifndef MV_LIB_JSON_H
#define MV_LIB_JSON_H
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
    FILE *f;
    int depth;
    int first[JSON_MAX_DEPTH];   /* no element written yet at this depth */
    int after_key;               /* a key was written; its value comes next */
    int error;                   /* misuse (unbalanced, value without key ...), a string not UTF-8 */
};

void json_init(struct json *j, FILE *f);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *k);
void json_str(struct json *j, const char *s);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_dbl(struct json *j, double v);   /* %.9g; NaN and infinities as null */
void json_bool(struct json *j, int v);
/* A value already formatted as a JSON number (e.g. by param_format). */
void json_raw(struct json *j, const char *number);
void json_null(struct json *j);
/* 0 if the document is complete and balanced and the stream had no error. */
int  json_finish(struct json *j);

#endif
