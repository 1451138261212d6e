/* hello.c: part of the small build recorded for tests/data/make.mvt. */
void greet(const char *who);
int main(void) { greet("world"); return 0; }
