"""Reads and prepares an S3 store for the tests, through boto3 (the AWS SDK,
an independent client): the store's own view of what ferry uploaded.

Usage: python s3_tool.py ENDPOINT COMMAND BUCKET [ARGS]
  create-bucket BUCKET
  digests BUCKET            one JSON object: key -> SHA-256 of the bytes read back
  put BUCKET KEY FILE       stores FILE at KEY, with its SHA-256 checksum
  uploads BUCKET            JSON list of unfinished multipart uploads' keys
  abort-all BUCKET          aborts every unfinished multipart upload
  delete BUCKET KEY         deletes the object at KEY
Credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
"""
import hashlib
import json
import os
import sys

import boto3
from botocore.config import Config

endpoint, command, bucket = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name=os.environ.get("AWS_REGION", "us-east-1"),
    config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 10}),
)

if command == "create-bucket":
    s3.create_bucket(Bucket=bucket)
elif command == "digests":
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"]
            digest = hashlib.sha256()
            for chunk in iter(lambda: body.read(1 << 20), b""):
                digest.update(chunk)
            found[item["Key"]] = digest.hexdigest()
    print(json.dumps(found))
elif command == "put":
    with open(sys.argv[5], "rb") as f:
        s3.put_object(
            Bucket=bucket, Key=sys.argv[4], Body=f.read(), ChecksumAlgorithm="SHA256"
        )
elif command == "delete":
    s3.delete_object(Bucket=bucket, Key=sys.argv[4])
elif command == "uploads":
    answer = s3.list_multipart_uploads(Bucket=bucket)
    print(json.dumps([u["Key"] for u in answer.get("Uploads", [])]))
elif command == "abort-all":
    for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        s3.abort_multipart_upload(
            Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
        )
else:
    sys.exit(f"unknown command {command}")
