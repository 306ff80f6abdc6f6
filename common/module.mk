# common room: every .c here goes into libcommon.a, main-*.c are programs.
common_SRCS := $(wildcard common/*.c)
