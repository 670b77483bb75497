"""Uploads one file with tuspy, with sha1 chunk checksums.

Usage: python tuspy_upload.py <endpoint> <file> <relative path> [chunk size]
Prints the upload URL.
"""
import os
import sys

from tusclient import client

endpoint, path, relative = sys.argv[1:4]
chunk_size = int(sys.argv[4]) if len(sys.argv) > 4 else 8 * 1024 * 1024
uploader = client.TusClient(endpoint).uploader(
    path,
    chunk_size=chunk_size,
    upload_checksum=True,
    metadata={"relativePath": relative, "filename": os.path.basename(relative)},
    retries=0,
)
uploader.upload()
print(uploader.url)
