//! File descriptors for connections. Every connection and every upload
//! being written holds one, and the usual soft limit (`ulimit -n`, often
//! 1,024) is below what `--max-connections` allows, so serve raises its
//! soft limit toward the hard one at start, as nginx's
//! `worker_rlimit_nofile` does, and serves fewer connections, saying so,
//! when the limit cannot be raised far enough.

/// Descriptors kept for the rest: uploads being written (part file and
/// placed file), the store's directory, the journal-like ledgers, logs.
fn reserved(max_uploads: usize) -> u64 {
    2 * max_uploads as u64 + 64
}

/// How many connections can be served at once: `wanted`, or fewer when
/// the open-file limit, raised as far as allowed, leaves less room; the
/// second value is the limit when it had to lower `wanted`.
pub fn connections_allowed(wanted: usize, max_uploads: usize) -> (usize, Option<u64>) {
    let needed = wanted as u64 + reserved(max_uploads);
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    let soft = unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return (wanted, None);
        }
        if limit.rlim_cur < needed {
            let raised = libc::rlimit {
                rlim_cur: needed.min(limit.rlim_max),
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = raised.rlim_cur;
            }
        }
        limit.rlim_cur
    };
    match soft >= needed {
        true => (wanted, None),
        false => {
            let room = soft.saturating_sub(reserved(max_uploads)).max(16);
            (room as usize, Some(soft))
        }
    }
}
