//! The SFTP channel over a master connection, its requests handed to ssh
//! through a Unix socket rather than a pipe.
//!
//! A pipe wakes its writer each time ssh takes a 32 KiB read from it
//! (ssh's most per read): a 1 GiB upload made about 52,000 context
//! switches between ferry and ssh. A Unix stream socket wakes its writer
//! only once three quarters of its buffer is free again, so ferry writes
//! in bursts and ssh reads on without waiting. Replies still come back
//! through a pipe: they are small.

use std::os::fd::OwnedFd;
use std::sync::Arc;

use openssh::Session;
use openssh_sftp_client::{Error, Sftp, SftpAuxiliaryData, SftpOptions};
use tokio_util::task::AbortOnDropHandle;

/// Starts the `sftp` subsystem over `session` and opens a client on it.
pub(super) async fn open(session: &Arc<Session>, options: SftpOptions) -> Result<Sftp, Error> {
    let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;
    let mut child = Session::to_subsystem(session.clone(), "sftp")
        .stdin(openssh::Stdio::from(OwnedFd::from(theirs)))
        .stdout(openssh::Stdio::piped())
        .stderr(openssh::Stdio::null())
        .spawn()
        .await?;
    let replies = child
        .stdout()
        .take()
        .ok_or_else(|| std::io::Error::other("the sftp subsystem has no output"))?;
    ours.set_nonblocking(true)?;
    // Only its writing half is used; dropped, it tells ssh the input ended.
    let (_, requests) = tokio::net::UnixStream::from_std(ours)?.into_split();
    // The subsystem lives as long as the client: waited for meanwhile,
    // dropped (ending it) with the client's last task.
    let waiting = AbortOnDropHandle::new(tokio::spawn(async move {
        let _ = child.wait().await;
    }));
    Sftp::new_with_auxiliary(
        requests,
        replies,
        options,
        SftpAuxiliaryData::Boxed(Box::new(waiting)),
    )
    .await
}
