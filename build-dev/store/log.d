build-dev/store/log.o: store/log.c store/log.h
store/log.h:
