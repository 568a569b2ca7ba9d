build-dev/store/frame.o: store/frame.c store/store_int.h store/store.h
store/store_int.h:
store/store.h:
