#ifndef RULEC_CACHE_HINTS_H
#define RULEC_CACHE_HINTS_H

/// Asks the processor to start loading the cache line at `address`, without waiting for it and
/// without faulting (a hint: it changes no result). Swift has no prefetch of its own.
static inline void rulec_prefetch(const void *address) {
  __builtin_prefetch(address, 0, 3);
}

#endif
