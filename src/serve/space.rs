//! Free space on the disk that holds the uploads, for refusing at
//! creation an upload that cannot fit (507) rather than failing near its
//! end. The figure is the disk's now: uploads in flight are not reserved.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Bytes an unprivileged writer may still use on `path`'s file system;
/// `None` when it cannot be asked.
pub fn free(path: &Path) -> Option<u64> {
    let path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is a NUL-terminated string and `stat` a valid,
    // writable statvfs for the call's duration.
    if unsafe { libc::statvfs(path.as_ptr(), &mut stat) } != 0 {
        return None;
    }
    // fsblkcnt_t is 32 bits on macOS, 64 on Linux.
    #[allow(clippy::useless_conversion)]
    Some(u64::from(stat.f_bavail).saturating_mul(stat.f_frsize))
}
