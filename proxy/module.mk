# proxy room: every .c here goes into libproxy.a, main-*.c are programs.
proxy_SRCS := $(wildcard proxy/*.c)
