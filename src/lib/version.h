/* version.h: memvirt's version and the source revision it was built from
 * (git describe, captured at build time by cmake/revision.cmake; "unknown"
 * when not built from a git checkout). Every result file records both. */
#ifndef MV_LIB_VERSION_H
#define MV_LIB_VERSION_H

const char *mv_version(void);
const char *mv_revision(void);

#endif
