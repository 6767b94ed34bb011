"""Encryption, storage class and tags on every write; paths that would leave the prefix are refused.

Bucket from EPCLOUD_EXAMPLE_BUCKET, credentials and endpoint from the standard AWS variables.
"""

import os

from epcloud import StoragePathError
from epcloud.simulation import S3FileSystem

bucket = os.environ["EPCLOUD_EXAMPLE_BUCKET"]
fs = S3FileSystem(
    bucket,
    prefix="examples/secure/",
    sse="AES256",  # or sse="aws:kms", sse_kms_key_id="arn:aws:kms:...:key/..."
    storage_class="STANDARD_IA",  # cheaper storage for results read rarely
    tags={"project": "project-x", "owner": "energy-team"},
)
fs.write_text("notes/readme.txt", "results of project x")

head = fs.client.head_object(Bucket=bucket, Key="examples/secure/notes/readme.txt")
print(f"encryption: {head['ServerSideEncryption']}, storage class: {head.get('StorageClass')}")
tags = fs.client.get_object_tagging(Bucket=bucket, Key="examples/secure/notes/readme.txt")["TagSet"]
print(f"tags: {sorted((tag['Key'], tag['Value']) for tag in tags)}")

# Keys always stay below the prefix: no request is sent for these.
for bad in ("../other-project/secrets.txt", "/absolute/path.txt", "notes//readme.txt"):
    try:
        fs.read_text(bad)
    except StoragePathError as exc:
        print(f"refused {bad!r}: {type(exc).__name__}")

# Keys given to the constructor never show in reprs, logs or errors.
keyed = S3FileSystem(bucket, aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="do-not-print")
print(f"repr shows no secret: {'do-not-print' not in repr(keyed)}")
