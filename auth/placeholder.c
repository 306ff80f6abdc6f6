int auth_placeholder(void);
int
auth_placeholder(void)
{
	return 0;
}
