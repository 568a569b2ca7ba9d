build-dev/store/screen.o: store/screen.c store/screen.h
store/screen.h:
