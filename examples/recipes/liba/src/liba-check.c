#include <stdio.h>
#include "liba.h"

int main(void)
{
	if (liba_answer() != 42) {
		fprintf(stderr, "liba_answer() is %d, not 42\n", liba_answer());
		return 1;
	}
	puts(liba_greeting());
	return 0;
}
