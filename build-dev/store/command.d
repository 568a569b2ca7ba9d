build-dev/store/command.o: store/command.c store/store_int.h \
 store/store.h store/log.h
store/store_int.h:
store/store.h:
store/log.h:
