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

/* Exec command classification (proxy/xfer-cmd.c). The first rows are the
 * command lines real clients send (OpenSSH 9.2 scp -O, rsync 3.5.0 -e ssh
 * with the options named in the comment); then every bypass of issue 15
 * finding 3 and its neighbours, each of which must need the exec right. */
#define UP_S XE_SCP_UPLOAD
#define DN_S XE_SCP_DOWNLOAD
#define UP_R XE_RSYNC_UPLOAD
#define DN_R XE_RSYNC_DOWNLOAD
#define NONE XE_NONE
static const struct classify_case {
	const char *cmd;
	enum xfer_exec_kind k;
	const char *paths;
} classify_cases[] = {
        /* scp -O (OpenSSH): plain, -r, -p, -r -p, -v, several sources (-d),
         * a path starting with '-', a path with a space (split by the shell) */
        {"scp -t /dst/", UP_S, "/dst/"},
        {"scp -f /srcf", DN_S, "/srcf"},
        {"scp -r -t /dst/", UP_S, "/dst/"},
        {"scp -r -f /srcf", DN_S, "/srcf"},
        {"scp -p -t /dst/", UP_S, "/dst/"},
        {"scp -r -p -f /srcf", DN_S, "/srcf"},
        {"scp -v -t /dst/", UP_S, "/dst/"},
        {"scp -v -r -p -d -t /dst/", UP_S, "/dst/"},
        {"scp -d -f /a", DN_S, "/a"},
        {"scp -t -- -dash", UP_S, "-dash"},
        {"scp -f -- -dash", DN_S, "-dash"},
        {"scp -f /a b", DN_S, "/a b"},
        {"scp -t .", UP_S, "."},
        {"scp -v -r -p -d -t -- '/tmp/a b'", UP_S, "/tmp/a b"},
        {"scp -pf -- /srv/f", DN_S, "/srv/f"},
        {"scp -t '/tmp/$HOME'", UP_S, "/tmp/$HOME"},
        /* rsync -e ssh (client 3.5.0): -v, -a, -av, -az, -avz --delete, -r,
         * -aHAX, -avP, --partial, -c, --inplace, --append, -aS, --numeric-ids,
         * --delete-after, -b --suffix, --backup-dir, -n, -i, --timeout,
         * --stats, --iconv, --compress-choice, --checksum-choice, --max-size,
         * --temp-dir, --compare-dest, -B (download), -R, --del, -@ 2, --zl,
         * --files-from (download), --remove-source-files (upload), --mkpath,
         * a pre-release client's e32.1 */
        {"rsync --server -ve.LsfxCIvu . /dst/", UP_R, "/dst/"},
        {"rsync --server --sender -ve.LsfxCIvu . /srcr/", DN_R, "/srcr/"},
        {"rsync --server -logDtpre.iLsfxCIvu . /dst/", UP_R, "/dst/"},
        {"rsync --server -vlogDtpre.iLsfxCIvu . /dst/", UP_R, "/dst/"},
        {"rsync --server --sender -vlogDtpre.iLsfxCIvu . /srcr/", DN_R, "/srcr/"},
        {"rsync --server -logDtprze.iLsfxCIvu . /dst/", UP_R, "/dst/"},
        {"rsync --server -vlogDtprze.iLsfxCIvu --delete . /dst/", UP_R, "/dst/"},
        {"rsync --server -re.iLsfxCIvu . /dst/", UP_R, "/dst/"},
        {"rsync --server --sender -lHogDtpAXre.iLsfxCIvu . /srcr/", DN_R, "/srcr/"},
        {"rsync --server -vlogDtpre.iLsfxCIvu --partial . /dst/", UP_R, "/dst/"},
        {"rsync --server -e.LsfxCIvu --partial . /dst/", UP_R, "/dst/"},
        {"rsync --server --sender -ce.LsfxCIvu . /srcr/", DN_R, "/srcr/"},
        {"rsync --server --sender -logDtpre.iLsfxCIvu --inplace . /srcr/", DN_R, "/srcr/"},
        {"rsync --server -logDtpre.iLsfxCIvu --append . /dst/", UP_R, "/dst/"},
        {"rsync --server -logDtprSe.iLsfxCIvu . /dst/", UP_R, "/dst/"},
        {"rsync --server --sender -logDtpre.iLsfxCIvu --numeric-ids . /srcr/", DN_R, "/srcr/"},
        {"rsync --server -logDtpre.iLsfxCIvu --delete-after . /dst/", UP_R, "/dst/"},
        {"rsync --server -blogDtpre.iLsfxCIvu --suffix=.x . /dst/", UP_R, "/dst/"},
        {"rsync --server -blogDtpre.iLsfxCIvu --backup-dir /x . /dst/", UP_R, "/dst/"},
        {"rsync --server --sender -nlogDtpre.iLsfxCIvu . /srcr/", DN_R, "/srcr/"},
        {"rsync --server -logDtpre.iLsfxCIvu --log-format=%i . /dst/", UP_R, "/dst/"},
        {"rsync --server --sender -logDtpre.iLsfxCIvu --timeout=5 . /srcr/", DN_R, "/srcr/"},
        {"rsync --server -logDtpre.iLsfxCIvu --stats . /dst/", UP_R, "/dst/"},
        {"rsync --server --sender -logDtpre.iLsfxCIvu --iconv=utf8 . /srcr/", DN_R, "/srcr/"},
        {"rsync --server -logDtpre.iLsfxCIvu --compress-choice=zstd . /dst/", UP_R, "/dst/"},
        {"rsync --server --sender -logDtpre.iLsfxCIvu --checksum-choice=md5 . /srcr/", DN_R, "/srcr/"},
        {"rsync --server -logDtpre.iLsfxCIvu --max-size=1024 . /dst/", UP_R, "/dst/"},
        {"rsync --server -logDtpre.iLsfxCIvu --temp-dir /tmp . /dst/", UP_R, "/dst/"},
        {"rsync --server -logDtpre.iLsfxCIvu --compare-dest /x . /dst/", UP_R, "/dst/"},
        {"rsync --server --sender -logDtpre.iLsfxCIvu -B1024 . /srcr/", DN_R, "/srcr/"},
        {"rsync --server -logDtprRe.iLsfxCIvu . /dst/", UP_R, "/dst/"},
        {"rsync --server -logDtpre.iLsfxCIvu --delete-during . /dst/", UP_R, "/dst/"},
        {"rsync --server -logDtpre.iLsfxCIvu --modify-window=2 . /dst/", UP_R, "/dst/"},
        {"rsync --server --sender -logDtpre.iLsfxCIvu --compress-level=3 . /srcr/", DN_R, "/srcr/"},
        {"rsync --server --sender -logDtpRe.LsfxCIvu --files-from=- --from0 . /srcr/", DN_R, "/srcr/"},
        {"rsync --server -logDtpre.iLsfxCIvu --remove-source-files . /dst/", UP_R, "/dst/"},
        {"rsync --server -logDtpre.iLsfxCIvu --mkpath . /dst/", UP_R, "/dst/"},
        {"rsync --server -logDtpre.iLsfxCIvu --usermap=\\*:a --groupmap=\\*:b . /dst/", UP_R, "/dst/"},
        {"rsync --server --sender -logDtpre.iLsfxCIvu . /a /b", DN_R, "/a /b"},
        {"rsync --server --sender -logDtpre.iLsfxCIvu . ./-weird", DN_R, "./-weird"},
        {"rsync --server -logDtpre.iLsfxCIvu . /a\\ b/c\\'d", UP_R, "/a b/c'd"},
        {"rsync --server -vlogDtpre32.1iLsfxCIvu . /dst/", UP_R, "/dst/"},
        {"rsync --server --sender -vlogDtpre.iLsfxCIvu . /src/", DN_R, "/src/"},

        /* finding 3: another program named scp, or scp with a program */
        {"/tmp/x/scp -f anything", NONE, ""},
        {"./scp -f x", NONE, ""},
        {"/usr/bin/scp -f x", NONE, ""},
        {"/usr/bin/scp -pf -- /srv/f", NONE, ""},
        {"scp -S /bin/sh -f x", NONE, ""},
        {"scp -f x -S /bin/sh", NONE, ""},
        {"scp -f -S/bin/sh x", NONE, ""},
        {"scp -fS /bin/sh x", NONE, ""},
        {"scp -o ProxyCommand=sh -f x", NONE, ""},
        {"scp -D /bin/sh -f x", NONE, ""},
        {"scp -F /tmp/cfg -f x", NONE, ""},
        {"scp -i /tmp/k -f x", NONE, ""},
        {"scp -3 -f x", NONE, ""},
        {"scp -f x y -o x", NONE, ""},
        {"scp - -f x", NONE, ""},
        {"scp -f", NONE, ""},
        {"scp -f --", NONE, ""},
        {"scp x host:y", NONE, ""},
        {"scp -t -f /x", NONE, ""},
        {"scp -ft /x", NONE, ""},
        {"scp /x", NONE, ""},
        {" scp -f x", NONE, ""},
        {"\tscp -f x", NONE, ""},
        {"'scp' -f x", NONE, ""},
        {"s\\cp -f x", NONE, ""},
        {"PATH=/tmp/x scp -f x", NONE, ""},
        {"env scp -f x", NONE, ""},
        {"exec scp -f x", NONE, ""},
        {"command scp -f x", NONE, ""},
        {"sudo scp -f x", NONE, ""},
        {"scpx -f x", NONE, ""},
        {"SCP -f x", NONE, ""},
        /* shell characters */
        {"scp -t /tmp; id", NONE, ""},
        {"scp -t /tmp/$(id)", NONE, ""},
        {"scp -t \"/tmp/$HOME\"", NONE, ""},
        {"scp -t /tmp | cat", NONE, ""},
        {"scp -t /tmp > /x", NONE, ""},
        {"scp -f /x/*.txt", NONE, ""},
        {"scp -f ~/x", NONE, ""},
        {"scp -f x\ny", NONE, ""},
        {"scp -f x^y", NONE, ""},
        {"scp -f x & sh", NONE, ""},
        {"scp -f `id`", NONE, ""},
        {"scp -f 'x", NONE, ""},
        /* rsync: the same, and options that run something, write on the
         * target in a download, or hide the rest of the options */
        {"/usr/bin/rsync --server --sender -e.Ls . /x", NONE, ""},
        {"./rsync --server --sender -e.Ls . /x", NONE, ""},
        {"rsync --server --sender -e.Ls . /x --remove-source-files", NONE, ""},
        {"rsync --server --sender -e.Ls . /x --log-file=/tmp/l", NONE, ""},
        {"rsync --server --sender -e.Ls . /x -e sh", NONE, ""},
        {"rsync --server --sender --remove-source-files -e.Ls . /src/", NONE, ""},
        {"rsync --server --sender -e.Ls --remove-source-files . /src/", NONE, ""},
        {"rsync --server --sender -e.Ls --remove-sent-files . /src/", NONE, ""},
        {"rsync --server --sender --log-file=/tmp/x . /src/", NONE, ""},
        {"rsync --server -e.Ls --log-file=/tmp/x . /dst/", NONE, ""},
        {"rsync --server --sender -e.Ls --log-file /tmp/x . /src/", NONE, ""},
        {"rsync --server --sender -e.Ls --write-batch=/tmp/b . /src/", NONE, ""},
        {"rsync --server -e.Ls --only-write-batch=X . /dst/", NONE, ""},
        {"rsync --server --sender -e.Ls --read-batch=/tmp/b . /src/", NONE, ""},
        {"rsync --server --daemon .", NONE, ""},
        {"rsync --daemon", NONE, ""},
        {"rsync --server --daemon --config=/tmp/c .", NONE, ""},
        {"rsync --server --sender -e.Ls --config=/tmp/c . /src", NONE, ""},
        {"rsync --server --sender -e sh . /src", NONE, ""},
        {"rsync --server --sender -esh . /src", NONE, ""},
        {"rsync --server --sender -e.Ls -e sh . /src", NONE, ""},
        {"rsync --server --sender --rsh=sh . /src", NONE, ""},
        {"rsync --server --sender -e.Ls --rsh sh . /src", NONE, ""},
        {"rsync --server --sender -e.Ls --rsync-path=/tmp/x . /src", NONE, ""},
        {"rsync --server --sender -e.L/s . /src", NONE, ""},
        {"rsync --server --sender -e . /src", NONE, ""},
        {"rsync --server --sender -e", NONE, ""},
        {"rsync --server --sender -slogDtpre.iLsfxCIvu", NONE, ""},
        {"rsync --server --sender -slogDtpre.iLsfxCIvu . /src", NONE, ""},
        {"rsync --server --sender -Fe.Ls . /src", NONE, ""},
        {"rsync --server --sender -e.Ls --filter=merge_/etc/x . /src", NONE, ""},
        {"rsync --server --sender -e.Ls -M--log-file=/x . /src", NONE, ""},
        {"rsync --server -e.Ls -B1 . /dst", NONE, ""},
        {"rsync --server -e.Ls --block-size=1 . /dst", NONE, ""},
        {"rsync --server -e.Ls --files-from /etc/shadow . /dst", NONE, ""},
        {"rsync --server -e.Ls --files-from=/etc/shadow . /dst", NONE, ""},
        {"rsync --server --sender -e.Ls --files-from=/etc/x . /src", NONE, ""},
        {"rsync --server --sender -e.Ls --temp-dir --log-file=/x . /src", NONE, ""},
        {"rsync --server -e.Ls --temp-dir --log-file=/x . /dst", NONE, ""},
        {"rsync --server -e.Ls --backup-dir . --delete . /dst", NONE, ""}, /* found by fuzz_scp */
        {"rsync --server -e.Ls --log-format=%f . /dst", NONE, ""},
        {"rsync --server -e.Ls --timeout=x . /dst", NONE, ""},
        {"rsync --server -e.Ls --delete=1 . /dst", NONE, ""},
        {"rsync --server --sender -e.Ls --delete . /src", NONE, ""},
        {"rsync --server -e.Ls --sender . /dst", NONE, ""},
        {"rsync --server -e.Ls -v . /dst", NONE, ""},
        {"rsync --server -e.Ls .", NONE, ""},
        {"rsync --server -e.Ls /dst", NONE, ""},
        {"rsync --server --sender -e.Ls . /src -- --remove-source-files", NONE, ""},
        {"rsync --sender --server -e.Ls . /src", NONE, ""},
        {"rsync -a /a /b", NONE, ""},
        {"rsync -e.Ls --server . /b", NONE, ""},
        {"rsync --server --sender -e.Ls . /src; id", NONE, ""},
        {"rsync --server --sender -e.Ls . /src/*", NONE, ""},
        {"ls -l", NONE, ""},
        {"", NONE, ""},
        {"scp", NONE, ""},
        {"scp ", NONE, ""},
        {"rsync", NONE, ""},
};

static void
test_exec_classify(void **state)
{
	char paths[256], why[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(classify_cases) / sizeof(classify_cases[0]); i++) {
		const struct classify_case *c = &classify_cases[i];
		enum xfer_exec_kind k = xfer_exec_classify(c->cmd, paths, sizeof(paths), why, sizeof(why));

		if (k != c->k || strcmp(paths, c->paths) != 0)
			fail_msg("'%s': kind %d paths '%s' (expected %d '%s'; why: %s)", c->cmd, (int)k, paths,
			         (int)c->k, c->paths, why);
		/* a transfer has no reason to refuse; a refused scp/rsync says why */
		if (k != XE_NONE && why[0] != '\0')
			fail_msg("'%s': a transfer with a reason '%s'", c->cmd, why);
		if (k == XE_NONE && (strstr(c->cmd, "scp ") != NULL || strstr(c->cmd, "rsync ") != NULL) &&
		    strncmp(c->cmd, "env ", 4) != 0 && strncmp(c->cmd, "exec ", 5) != 0 &&
		    strncmp(c->cmd, "command ", 8) != 0 && strncmp(c->cmd, "sudo ", 5) != 0 &&
		    strncmp(c->cmd, "PATH=", 5) != 0 && why[0] == '\0')
			fail_msg("'%s': refused without a reason", c->cmd);
		assert_int_equal(xfer_exec_classify(c->cmd, NULL, 0, NULL, 0), c->k);
	}
}

/* A paths buffer too small is truncated, never overrun. */
static void
test_exec_classify_small(void **state)
{
	char paths[4], why[8];

	(void)state;
	assert_int_equal(xfer_exec_classify("scp -f /a/long/path", paths, sizeof(paths), why, sizeof(why)), DN_S);
	assert_true(strlen(paths) < sizeof(paths));
	assert_int_equal(xfer_exec_classify("scp -S /bin/sh -f x", paths, sizeof(paths), why, sizeof(why)), NONE);
	assert_true(strlen(why) < sizeof(why));
	assert_string_equal(paths, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_stream),
	        cmocka_unit_test(test_cut_short_and_errors),
	        cmocka_unit_test(test_exec_classify),
	        cmocka_unit_test(test_exec_classify_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
