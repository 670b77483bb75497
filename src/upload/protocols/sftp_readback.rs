//! Bytes already on the server read back, and the source's prefix hashed:
//! what a resume compares before it sends on. Reads are at most `READ`
//! bytes, which any server allows, and several are kept in flight.

use std::io::SeekFrom;

use openssh_sftp_client::Error as SftpError;
use openssh_sftp_client::file::File as RemoteFile;
use sha2::Digest;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::{CHUNK, failure, local};
use crate::digest::Sha256;
use crate::upload::http::Failure;

/// Source bytes read at a time where nothing is sent (a prefix hashed).
const BUFFER: usize = 1 << 20;
/// Bytes asked for in one read request (within any server's limit).
const READ: u64 = 64 << 10;

/// `len` bytes of a remote file from `start` (fewer at its end).
async fn read_range(mut file: RemoteFile, start: u64, len: u64) -> Result<bytes::Bytes, SftpError> {
    file.seek(SeekFrom::Start(start)).await?;
    let mut out = bytes::BytesMut::with_capacity(len as usize);
    while (out.len() as u64) < len {
        let want = (len - out.len() as u64).min(READ) as u32;
        match file
            .read(want, bytes::BytesMut::with_capacity(want as usize))
            .await?
        {
            Some(read) if !read.is_empty() => out.extend_from_slice(&read),
            _ => break,
        }
    }
    Ok(out.freeze())
}

/// `len` bytes of a remote file from `start`, read `CHUNK` bytes at a time
/// with 16 requests in flight: a long round trip is paid once, not per
/// request.
fn chunks(
    file: &RemoteFile,
    start: u64,
    len: u64,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, SftpError>> + '_ {
    use futures_util::StreamExt;
    let end = start + len;
    futures_util::stream::iter((start..end).step_by(CHUNK))
        .map(move |at| read_range(file.clone(), at, (end - at).min(CHUNK as u64)))
        .buffered(16)
}

/// `len` bytes of a remote file from `start` (fewer at its end).
pub(super) async fn read_back(
    file: &RemoteFile,
    start: u64,
    len: u64,
) -> Result<bytes::Bytes, SftpError> {
    use futures_util::StreamExt;
    let reads = chunks(file, start, len);
    futures_util::pin_mut!(reads);
    let mut out = bytes::BytesMut::with_capacity(len as usize);
    while let Some(read) = reads.next().await {
        out.extend_from_slice(&read?);
    }
    Ok(out.freeze())
}

/// The SHA-256 of a remote file's first `len` bytes.
pub(super) async fn prefix_sha256(file: &RemoteFile, len: u64) -> Result<Sha256, Failure> {
    use futures_util::StreamExt;
    let reads = chunks(file, 0, len);
    futures_util::pin_mut!(reads);
    let mut hasher = sha2::Sha256::new();
    while let Some(read) = reads.next().await {
        hasher.update(read.map_err(|e| failure("reading back the partial file", e))?);
    }
    Ok(Sha256(hasher.finalize().into()))
}

/// Reads the source's first `len` bytes into `hasher`.
pub(super) async fn hash_prefix(
    source: &mut tokio::fs::File,
    len: u64,
    hasher: &mut sha2::Sha256,
) -> Result<(), Failure> {
    source.seek(SeekFrom::Start(0)).await.map_err(local)?;
    let mut left = len;
    let mut buffer = vec![0; BUFFER];
    while left > 0 {
        let want = buffer.len().min(left as usize);
        let read = source.read(&mut buffer[..want]).await.map_err(local)?;
        if read == 0 {
            return Err(local(std::io::ErrorKind::UnexpectedEof.into()));
        }
        hasher.update(&buffer[..read]);
        left -= read as u64;
    }
    Ok(())
}
