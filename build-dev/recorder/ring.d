build-dev/recorder/ring.o: recorder/ring.c recorder/ring.h
recorder/ring.h:
