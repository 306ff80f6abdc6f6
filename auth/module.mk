# auth room: every .c here goes into libauth.a, main-*.c are programs.
auth_SRCS := $(wildcard auth/*.c)
