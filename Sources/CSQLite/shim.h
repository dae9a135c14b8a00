#ifndef STEADFAST_CSQLITE_SHIM_H
#define STEADFAST_CSQLITE_SHIM_H

#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro Swift cannot import; expose it as a function.
static inline sqlite3_destructor_type steadfast_sqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

// Extended result codes are macros built with shifts, which Swift does not import.
static const int steadfast_sqlite_constraint_unique = SQLITE_CONSTRAINT_UNIQUE;
static const int steadfast_sqlite_constraint_primarykey = SQLITE_CONSTRAINT_PRIMARYKEY;

#endif
