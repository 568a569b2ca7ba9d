build-dev/store/schema.o: store/schema.c store/store_int.h store/store.h
store/store_int.h:
store/store.h:
