# admin room: every .c here goes into libadmin.a, main-*.c are programs.
admin_SRCS := $(wildcard admin/*.c)
