/* Legacy SCP stream observer and exec command classification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "proxy/scp.h"
#include "proxy/xfer.h"

struct log {
	char s[4096];
	size_t n;
};

static void
on_event(void *ud, const struct scp_event *ev)
{
	struct log *l = ud;
	int w;

	if (ev->kind == SCP_EV_FILE)
		w = snprintf(l->s + l->n, sizeof(l->s) - l->n,
		             "file %s mode=%04o size=%llu bytes=%llu complete=%d sha=%s\n", ev->path, ev->mode,
		             (unsigned long long)ev->size, (unsigned long long)ev->bytes, ev->complete,
		             ev->sha256 ? ev->sha256 : "-");
	else if (ev->kind == SCP_EV_DIR)
		w = snprintf(l->s + l->n, sizeof(l->s) - l->n, "dir %s mode=%04o\n", ev->path, ev->mode);
	else
		w = snprintf(l->s + l->n, sizeof(l->s) - l->n, "error %s\n", ev->message);
	assert_true(w > 0);
	l->n += (size_t)w;
}

/* A recursive upload: D, T, C with data, nested D, E, E. */
static const char stream[] = "D0755 0 top\n"
                             "T1700000000 0 1700000000 0\n"
                             "C0644 11 hello.txt\nhello world\0"
                             "D0700 0 sub\n"
                             "C0600 3 abc\nabc\0"
                             "C0600 0 empty\n\0"
                             "E\n"
                             "E\n"
                             "\001scp: warning\n";

#define SHA_HELLO "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
#define SHA_ABC   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void
test_stream(void **state)
{
	static struct log base, l;
	size_t len = sizeof(stream) - 1, cut, i;
	struct scp *s;

	(void)state;
	memset(&base, 0, sizeof(base));
	s = scp_new(on_event, &base);
	assert_int_equal(scp_feed(s, stream, len), 0);
	scp_free(s);
	assert_non_null(strstr(base.s, "dir top mode=0755\n"));
	assert_non_null(strstr(base.s, "file top/hello.txt mode=0644 size=11 bytes=11 complete=1 sha=" SHA_HELLO));
	assert_non_null(strstr(base.s, "dir top/sub mode=0700\n"));
	assert_non_null(strstr(base.s, "file top/sub/abc mode=0600 size=3 bytes=3 complete=1 sha=" SHA_ABC));
	assert_non_null(strstr(base.s, "file top/sub/empty mode=0600 size=0 bytes=0 complete=1 sha=" SHA_EMPTY));
	assert_non_null(strstr(base.s, "error scp: warning\n"));
	/* every split point, and byte by byte: the same events */
	for (cut = 0; cut <= len; cut++) {
		memset(&l, 0, sizeof(l));
		s = scp_new(on_event, &l);
		assert_int_equal(scp_feed(s, stream, cut), 0);
		assert_int_equal(scp_feed(s, stream + cut, len - cut), 0);
		scp_free(s);
		assert_string_equal(l.s, base.s);
	}
	memset(&l, 0, sizeof(l));
	s = scp_new(on_event, &l);
	for (i = 0; i < len; i++)
		assert_int_equal(scp_feed(s, stream + i, 1), 0);
	scp_free(s);
	assert_string_equal(l.s, base.s);
}

static void
test_cut_short_and_errors(void **state)
{
	static struct log l;
	struct scp *s;
	static const char bad[][40] = {"X0644 1 a\n",      "C064 1 a\n",    "C0644 x a\n",
	                               "C0644 1 ../etc\n", "C0644 1 a/b\n", "E\n"};
	size_t i;
	char longline[SCP_MAX_LINE + 10];

	(void)state;
	memset(&l, 0, sizeof(l));
	s = scp_new(on_event, &l);
	assert_int_equal(scp_feed(s, "C0644 10 f\nabc", 14), 0);
	scp_free(s); /* incomplete */
	assert_non_null(strstr(l.s, "file f mode=0644 size=10 bytes=3 complete=0 sha=-"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = scp_new(NULL, NULL);
		assert_int_equal(scp_feed(s, bad[i], strlen(bad[i])), ERR_INVALID);
		assert_int_equal(scp_feed(s, "C0644 1 a\n", 10), ERR_INVALID); /* stays failed */
		scp_free(s);
	}
	memset(longline, 'C', sizeof(longline));
	s = scp_new(NULL, NULL);
	assert_int_equal(scp_feed(s, longline, sizeof(longline)), ERR_INVALID);
	assert_non_null(strstr(scp_error(s), "too long"));
	scp_free(s);
}

static void
test_exec_classify(void **state)
{
	static const struct {
		const char *cmd;
		enum xfer_exec_kind k;
		const char *paths;
	} cases[] = {
	        {"scp -t /tmp/x", XE_SCP_UPLOAD, "/tmp/x"},
	        {"scp -f /etc/hosts", XE_SCP_DOWNLOAD, "/etc/hosts"},
	        {"scp -v -r -p -d -t -- '/tmp/a b'", XE_SCP_UPLOAD, "/tmp/a b"},
	        {"/usr/bin/scp -pf -- /srv/f", XE_SCP_DOWNLOAD, "/srv/f"},
	        {"scp -t -f /x", XE_NONE, ""},
	        {"scp /x", XE_NONE, ""},
	        {"scp -t /tmp; id", XE_NONE, ""},
	        {"scp -t /tmp/$(id)", XE_NONE, ""},
	        {"scp -t \"/tmp/$HOME\"", XE_NONE, ""},
	        {"scp -t '/tmp/$HOME'", XE_SCP_UPLOAD, "/tmp/$HOME"},
	        {"scp -t /tmp | cat", XE_NONE, ""},
	        {"scp -t /tmp > /x", XE_NONE, ""},
	        {"rsync --server -vlogDtpre.iLsfxCIvu . /dst/", XE_RSYNC_UPLOAD, "/dst/"},
	        {"rsync --server --sender -vlogDtpre.iLsfxCIvu . /src/", XE_RSYNC_DOWNLOAD, "/src/"},
	        {"rsync --server --sender --remove-source-files -e.Ls . /src/", XE_NONE, ""},
	        {"rsync --server --sender --log-file=/tmp/x . /src/", XE_NONE, ""},
	        {"rsync --daemon", XE_NONE, ""},
	        {"rsync -a /a /b", XE_NONE, ""},
	        {"ls -l", XE_NONE, ""},
	        {"", XE_NONE, ""},
	        {"scp", XE_NONE, ""},
	};
	char paths[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].cmd);
		assert_int_equal(xfer_exec_classify(cases[i].cmd, paths, sizeof(paths)), cases[i].k);
		assert_string_equal(paths, cases[i].paths);
		assert_int_equal(xfer_exec_classify(cases[i].cmd, NULL, 0), cases[i].k);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_stream),
	        cmocka_unit_test(test_cut_short_and_errors),
	        cmocka_unit_test(test_exec_classify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
