#ifndef LIBA_H
#define LIBA_H

/* The answer liba gives. */
int liba_answer(void);

/* A greeting naming the library and its version. */
const char *liba_greeting(void);

#endif
