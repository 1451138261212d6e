/* version.c: see version.h; the values come from the generated mv_revision.h. */
#include "lib/version.h"
#include "mv_revision.h"

const char *mv_version(void) { return MV_VERSION; }
const char *mv_revision(void) { return MV_REVISION; }
