/* config_file.h: the effective configuration of a run, as every result file
 * records it (JSON keys, CSV rows of kind "config": docs/output.md) and as
 * `memvirt rerun` reads it back from a JSON result. Everything a run depends
 * on is there: the value of every parameter of every group (given or not), the
 * --at controls, the modes, workload, seed, profile and --check, and
 * memvirt's version and source revision. */
#ifndef MV_SIM_CONFIG_FILE_H
#define MV_SIM_CONFIG_FILE_H
#include "sim/config.h"
#include "sim/machine.h"

#define CONFIG_MAX_MODES 32

struct json;

/* Write the configuration as keys of the open top-level JSON object. */
void config_json_write(struct json *j, const struct sim_config *c, const char *const *mode_names, unsigned nmode_names);
/* The same as CSV rows ",WORKLOAD,config,NAME,,VALUE". */
void config_csv_write(FILE *f, const struct sim_config *c, const char *const *mode_names, unsigned nmode_names);

/* Read the configuration back from a JSON result held in buf (`name` names
 * it in messages): c is initialised here (config_free it, also on failure),
 * sel[] gets the modes in order. Every key must be known and every
 * parameter present; the configuration must validate. -1 after one mv_error
 * naming the file and the key, or line and column for malformed JSON. */
int config_load_json(const char *name, const char *buf, size_t len, struct sim_config *c,
                     const struct mode_def **sel, unsigned *nsel);
/* The same from a file ("-": standard input). */
int config_load_json_file(const char *path, struct sim_config *c, const struct mode_def **sel,
                          unsigned *nsel);

#endif
