int player_placeholder(void);
int
player_placeholder(void)
{
	return 0;
}
