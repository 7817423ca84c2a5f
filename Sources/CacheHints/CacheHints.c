// The hints are static inline functions in include/CacheHints.h; a C target needs one source file.
#include "CacheHints.h"
