# player room: every .c here goes into libplayer.a, main-*.c are programs.
player_SRCS := $(wildcard player/*.c)
