/* placeholder so the room has a library */
int recorder_placeholder(void);
int
recorder_placeholder(void)
{
	return 0;
}
