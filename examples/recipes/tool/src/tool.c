#include <stdio.h>
#include <liba.h>

int main(void)
{
	printf("tool: liba answers %d (%s)\n", liba_answer(), liba_greeting());
	return 0;
}
