/* import_strace.c: placeholder */
#include "trace/import.h"
int import_strace(struct build *b, FILE *f, const char *name, const struct import_opts *o, struct import_stats *st) { return -1; }
