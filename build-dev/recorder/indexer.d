build-dev/recorder/indexer.o: recorder/indexer.c recorder/indexer.h \
 store/log.h store/store.h
recorder/indexer.h:
store/log.h:
store/store.h:
