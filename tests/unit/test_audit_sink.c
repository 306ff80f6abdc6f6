/* RFC 5424 formatting of the real-time audit export: header fields, the
 * structured-data element, PARAM-VALUE escaping, control bytes, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <cmocka.h>

#include "proxy/audit-sink.h"

static void
test_format(void **state)
{
	char buf[512];
	const char *names[] = {"id", "actor", "object", "rule"};
	const char *values[] = {"7", "al\"i]c\\e", "line\nbreak\x1b[31m", NULL};
	int n;

	(void)state;
	n = audit_sink_format_5424(buf, sizeof(buf), LOG_AUTHPRIV | LOG_WARNING, "2026-11-21T08:00:00.123Z", "bast ion",
	                           4242, "command.block", names, values, 4, "{\"a\":1}");
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	/* PRI 10*8+4 = 84, version 1, host without blanks, app, procid, msgid,
	 * then the SD element: '"', ']' and '\' escaped, control bytes '?',
	 * a NULL value left out; the JSON message after one blank. */
	assert_string_equal(buf,
	                    "<84>1 2026-11-21T08:00:00.123Z bast_ion gatehouse 4242 command.block "
	                    "[" AUDIT_SINK_SD_ID " id=\"7\" actor=\"al\\\"i\\]c\\\\e\" object=\"line?break?[31m\"] "
	                    "{\"a\":1}");
}

static void
test_empty_fields_and_limits(void **state)
{
	char buf[128], small[40];
	const char *names[] = {"x"};
	const char *values[] = {"y"};
	char longid[80];

	(void)state;
	memset(longid, 'm', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	/* Empty host and msgid become "-"; MSGID is cut at 32 characters; no message. */
	assert_true(audit_sink_format_5424(buf, sizeof(buf), LOG_AUTHPRIV | LOG_INFO, "2026-11-21T08:00:00Z", "", 1,
	                                   longid, names, values, 1, NULL) > 0);
	assert_string_equal(buf, "<86>1 2026-11-21T08:00:00Z - gatehouse 1 mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm "
	                         "[" AUDIT_SINK_SD_ID " x=\"y\"]");
	/* Too small: -1, never a cut message. */
	assert_int_equal(audit_sink_format_5424(small, sizeof(small), LOG_AUTHPRIV | LOG_INFO, "2026-11-21T08:00:00Z",
	                                        "h", 1, "m", names, values, 1, "message"),
	                 -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_format),
	        cmocka_unit_test(test_empty_fields_and_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
