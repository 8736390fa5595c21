// SQLite's C API from the system library (Debian: libsqlite3-dev).
#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro cast Swift cannot import: tells SQLite to copy bound data.
static inline void (*csqlite_transient(void))(void *) { return (void (*)(void *))-1; }
