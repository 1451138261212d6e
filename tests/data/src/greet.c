/* greet.c: part of the small build recorded for tests/data/make.mvt. */
#include <stdio.h>
void greet(const char *who) { printf("hello, %s\n", who); }
