#include <stdio.h>
#include "liba.h"

int liba_answer(void)
{
	return 42;
}

const char *liba_greeting(void)
{
	static char text[64];

	snprintf(text, sizeof text, "hello from liba %s", LIBA_VERSION);
	return text;
}
