/* A small SSH client on libssh2, an SSH stack that shares no code with the
 * bastion's libssh, for tests/integration/t_xfer_clients.sh:
 *
 *   ssh2-client [-k KEY] HOST PORT USER exec COMMAND
 *   ssh2-client [-k KEY] HOST PORT USER put LOCAL REMOTE   (SFTP write)
 *   ssh2-client [-k KEY] HOST PORT USER get REMOTE LOCAL   (SFTP read)
 *
 * Authentication: the private key file KEY, otherwise keyboard-interactive
 * answering "Password:" with $GH_PW and "Verification code:" with
 * $GH_TOTP_CODE. Prints the negotiated algorithms on stderr ("kex=...") and
 * exits 0 on success, 2 when the key exchange fails (no common algorithm),
 * 1 otherwise; exec exits with the command's status. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh2.h>
#include <libssh2_sftp.h>

static void
kbd_cb(const char *name, int name_len, const char *instruction, int instruction_len, int num_prompts,
       const LIBSSH2_USERAUTH_KBDINT_PROMPT *prompts, LIBSSH2_USERAUTH_KBDINT_RESPONSE *responses, void **abstract)
{
	int i;

	(void)name;
	(void)name_len;
	(void)instruction;
	(void)instruction_len;
	(void)abstract;
	for (i = 0; i < num_prompts; i++) {
		const char *v = "";

		if (prompts[i].length >= 8 && memcmp(prompts[i].text, "Password", 8) == 0)
			v = getenv("GH_PW");
		else if (prompts[i].length >= 12 && memcmp(prompts[i].text, "Verification", 12) == 0)
			v = getenv("GH_TOTP_CODE");
		if (v == NULL)
			v = "";
		responses[i].text = strdup(v);
		responses[i].length = (unsigned int)strlen(v);
	}
}

static int
fail(LIBSSH2_SESSION *s, const char *what)
{
	char *msg = NULL;

	libssh2_session_last_error(s, &msg, NULL, 0);
	fprintf(stderr, "ssh2-client: %s: %s\n", what, msg != NULL ? msg : "?");
	return 1;
}

static int
do_exec(LIBSSH2_SESSION *s, const char *cmd)
{
	LIBSSH2_CHANNEL *ch = libssh2_channel_open_session(s);
	char buf[16384];
	ssize_t n;
	int status;

	if (ch == NULL)
		return fail(s, "channel");
	if (libssh2_channel_exec(ch, cmd) != 0)
		return fail(s, "exec");
	while ((n = libssh2_channel_read(ch, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	while ((n = libssh2_channel_read_stderr(ch, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stderr);
	libssh2_channel_send_eof(ch);
	libssh2_channel_wait_eof(ch);
	libssh2_channel_close(ch);
	libssh2_channel_wait_closed(ch);
	status = libssh2_channel_get_exit_status(ch);
	libssh2_channel_free(ch);
	return status;
}

static int
do_sftp(LIBSSH2_SESSION *s, int put, const char *a, const char *b)
{
	LIBSSH2_SFTP *sftp = libssh2_sftp_init(s);
	LIBSSH2_SFTP_HANDLE *h;
	char buf[32768];
	ssize_t n, w, off;
	int fd, r = 1;

	if (sftp == NULL)
		return fail(s, "sftp init");
	if (put) {
		if ((fd = open(a, O_RDONLY)) < 0) {
			perror(a);
			return 1;
		}
		h = libssh2_sftp_open(sftp, b, LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, 0644);
		if (h == NULL) {
			fprintf(stderr, "ssh2-client: sftp open %s: status %lu\n", b, libssh2_sftp_last_error(sftp));
			goto out_fd;
		}
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			for (off = 0; off < n; off += w) {
				if ((w = libssh2_sftp_write(h, buf + off, (size_t)(n - off))) < 0) {
					fprintf(stderr, "ssh2-client: sftp write: status %lu\n",
					        libssh2_sftp_last_error(sftp));
					goto out_h;
				}
			}
		}
		r = n < 0;
	} else {
		h = libssh2_sftp_open(sftp, a, LIBSSH2_FXF_READ, 0);
		if (h == NULL) {
			fprintf(stderr, "ssh2-client: sftp open %s: status %lu\n", a, libssh2_sftp_last_error(sftp));
			libssh2_sftp_shutdown(sftp);
			return 1;
		}
		if ((fd = open(b, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
			perror(b);
			goto out_h_only;
		}
		while ((n = libssh2_sftp_read(h, buf, sizeof(buf))) > 0)
			if (write(fd, buf, (size_t)n) != n)
				goto out_h;
		r = n < 0;
	}
out_h:
	libssh2_sftp_close(h);
out_fd:
	close(fd);
	libssh2_sftp_shutdown(sftp);
	return r;
out_h_only:
	libssh2_sftp_close(h);
	libssh2_sftp_shutdown(sftp);
	return 1;
}

int
main(int argc, char **argv)
{
	const char *key = NULL;
	struct sockaddr_in sin;
	LIBSSH2_SESSION *s;
	int sock, r, i = 1;

	if (argc > 2 && strcmp(argv[1], "-k") == 0) {
		key = argv[2];
		i = 3;
	}
	if (argc - i < 5) {
		fprintf(stderr,
		        "usage: ssh2-client [-k KEY] HOST PORT USER exec CMD | put LOCAL REMOTE | get REMOTE LOCAL\n");
		return 1;
	}
	if (libssh2_init(0) != 0)
		return 1;
	sock = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(argv[i + 1]));
	if (inet_pton(AF_INET, argv[i], &sin.sin_addr) != 1 ||
	    connect(sock, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		perror("connect");
		return 1;
	}
	s = libssh2_session_init();
	libssh2_session_set_timeout(s, 60000);
	if (libssh2_session_handshake(s, sock) != 0) {
		fail(s, "handshake");
		return 2;
	}
	fprintf(stderr, "kex=%s hostkey=%s cipher=%s mac=%s\n", libssh2_session_methods(s, LIBSSH2_METHOD_KEX),
	        libssh2_session_methods(s, LIBSSH2_METHOD_HOSTKEY), libssh2_session_methods(s, LIBSSH2_METHOD_CRYPT_CS),
	        libssh2_session_methods(s, LIBSSH2_METHOD_MAC_CS));
	if (key != NULL)
		r = libssh2_userauth_publickey_fromfile(s, argv[i + 2], NULL, key, NULL);
	else
		r = libssh2_userauth_keyboard_interactive(s, argv[i + 2], kbd_cb);
	if (r != 0)
		return fail(s, "authentication");
	if (strcmp(argv[i + 3], "exec") == 0)
		r = do_exec(s, argv[i + 4]);
	else if ((strcmp(argv[i + 3], "put") == 0 || strcmp(argv[i + 3], "get") == 0) && argc - i >= 6)
		r = do_sftp(s, argv[i + 3][0] == 'p', argv[i + 4], argv[i + 5]);
	else
		r = 1;
	libssh2_session_disconnect(s, "bye");
	libssh2_session_free(s);
	close(sock);
	libssh2_exit();
	return r;
}
