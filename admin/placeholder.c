int admin_placeholder(void);
int
admin_placeholder(void)
{
	return 0;
}
