# recorder room: every .c here goes into librecorder.a, main-*.c are programs.
recorder_SRCS := $(wildcard recorder/*.c)
