/** informers: list+watch state machine, stores with indexes, shared informer factory, resync, handlers. */
export {};
