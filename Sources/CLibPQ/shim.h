#ifndef STEADFAST_CLIBPQ_SHIM_H
#define STEADFAST_CLIBPQ_SHIM_H

#include <libpq-fe.h>
#include <poll.h>

// PG_DIAG_SQLSTATE is a character-literal macro, which Swift does not import.
static const int steadfast_pg_diag_sqlstate = PG_DIAG_SQLSTATE;

// A notice processor that drops notices ("relation already exists, skipping"), which libpq
// would otherwise print on the process's stderr.
static void steadfast_pg_ignore_notice(void *arg, const char *message) {
    (void)arg;
    (void)message;
}

static inline void steadfast_pg_silence_notices(PGconn *conn) {
    PQsetNoticeProcessor(conn, steadfast_pg_ignore_notice, 0);
}

#endif
