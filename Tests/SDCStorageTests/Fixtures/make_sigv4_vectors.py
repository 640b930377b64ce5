"""Writes sigv4_botocore.json: AWS Signature Version 4 vectors computed by botocore, for SigV4Tests.swift.

Every request is built the way S3ObjectStore sends it (path-style URL, the same extra headers, the same body) and
signed by botocore's own S3 signers at a fixed time; presigned URLs come from a real boto3 client's
generate_presigned_url. The Swift tests sign the same inputs and compare byte for byte.

    python3 -m venv /tmp/botocore && /tmp/botocore/bin/pip install botocore boto3
    /tmp/botocore/bin/python Tests/SDCStorageTests/Fixtures/make_sigv4_vectors.py
"""

import datetime
import hashlib
import json
import pathlib
from unittest import mock
from urllib.parse import quote

import boto3
import botocore
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

NOW = datetime.datetime(2024, 1, 5, 12, 34, 56)
ACCESS_KEY = "AKIDSDCFIXTURE000001"
SECRET_KEY = "sdc/Fixture+Secret/0123456789abcdefghijKLMN"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE/session+token=="

ENDPOINTS = [
    ("http://127.0.0.1:9000", "us-east-1"),
    ("https://s3.eu-west-1.amazonaws.com", "eu-west-1"),
]
KEYS = [
    "imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0000.cdf",
    "folder with spaces/a b.txt",
    "unicode/é ñ 漢字 ሴ.cdf",
    "plus/a+b=c&d;e,f@g$h!i'(j)*k~l%m.txt",
]
BUCKET = "sdc-bucket"
UPLOAD_ID = "2~Upload+Id/with=odd&chars"
COMPLETE_BODY = (
    '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"etag-1"</ETag></Part>'
    "</CompleteMultipartUpload>"
)


def credentials(with_token):
    return Credentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN if with_token else None)


def query_string(items):
    """The query as S3ObjectStore writes it: RFC 3986 encoding, `name` alone for an empty value."""
    parts = []
    for name, value in items:
        encoded = quote(name, safe="-_.~")
        parts.append(encoded if value == "" else f"{encoded}={quote(value, safe='-_.~')}")
    return "&".join(parts)


def signed_request(name, method, endpoint, region, key, query, headers, body, with_token):
    path = f"/{BUCKET}" + (f"/{quote(key, safe='/~')}" if key is not None else "")
    url = endpoint + path + (f"?{query_string(query)}" if query else "")
    request = AWSRequest(method=method, url=url, headers=dict(headers), data=body.encode())
    signer = S3SigV4Auth(credentials(with_token), "s3", region)
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW):
        signer.add_auth(request)
    authorization = request.headers["Authorization"]
    del request.headers["Authorization"]
    canonical = signer.canonical_request(request)
    request.headers["Authorization"] = authorization
    return {
        "name": name,
        "method": method,
        "endpoint": endpoint,
        "region": region,
        "bucket": BUCKET,
        "key": key,
        "query": [list(item) for item in query],
        "headers": [list(item) for item in headers],
        "body": body,
        "sessionToken": with_token,
        "url": url,
        "canonicalRequest": canonical,
        "stringToSign": signer.string_to_sign(request, canonical),
        "addedHeaders": {
            name: request.headers[name]
            for name in ["X-Amz-Date", "X-Amz-Content-SHA256", "X-Amz-Security-Token", "Authorization"]
            if name in request.headers
        },
    }


def requests():
    out = []
    for endpoint, region in ENDPOINTS:
        for index, key in enumerate(KEYS):
            token = index % 2 == 1
            tag = f"{endpoint.split('://')[1]} {key}"
            out.append(signed_request(f"GetObject {tag}", "GET", endpoint, region, key, [], [], "", token))
            out.append(signed_request(f"GetObject range {tag}", "GET", endpoint, region, key, [],
                                      [("Range", "bytes=0-9")], "", token))
            out.append(signed_request(f"HeadObject {tag}", "HEAD", endpoint, region, key, [], [], "", token))
            out.append(signed_request(f"PutObject {tag}", "PUT", endpoint, region, key, [],
                                      [("If-None-Match", "*")], "Welcome to sdc.\n", token))
            out.append(signed_request(f"DeleteObject {tag}", "DELETE", endpoint, region, key, [], [], "", token))
            out.append(signed_request(f"CreateMultipartUpload {tag}", "POST", endpoint, region, key,
                                      [("uploads", "")], [], "", token))
            out.append(signed_request(f"UploadPart {tag}", "PUT", endpoint, region, key,
                                      [("partNumber", "1"), ("uploadId", UPLOAD_ID)], [], "part one bytes", token))
            out.append(signed_request(f"CompleteMultipartUpload {tag}", "POST", endpoint, region, key,
                                      [("uploadId", UPLOAD_ID)], [("If-None-Match", "*")], COMPLETE_BODY, token))
            out.append(signed_request(f"AbortMultipartUpload {tag}", "DELETE", endpoint, region, key,
                                      [("uploadId", UPLOAD_ID)], [], "", token))
        out.append(signed_request(f"ListMultipartUploads {endpoint}", "GET", endpoint, region, None,
                                  [("uploads", ""), ("prefix", "a prefix/with+plus")], [], "", False))
    return out


def presigned():
    out = []
    for endpoint, region in ENDPOINTS:
        for index, key in enumerate(KEYS):
            token = index % 2 == 0
            client = boto3.client(
                "s3", endpoint_url=endpoint, region_name=region,
                aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                aws_session_token=SESSION_TOKEN if token else None,
                config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
            )
            for method, operation in [("GET", "get_object"), ("PUT", "put_object")]:
                with mock.patch("botocore.auth.get_current_datetime", return_value=NOW):
                    url = client.generate_presigned_url(operation, Params={"Bucket": BUCKET, "Key": key},
                                                        ExpiresIn=900 + index)
                out.append({
                    "method": method, "endpoint": endpoint, "region": region, "bucket": BUCKET, "key": key,
                    "expires": 900 + index, "sessionToken": token, "url": url,
                })
    return out


vectors = {
    "generator": f"botocore {botocore.__version__}, Tests/SDCStorageTests/Fixtures/make_sigv4_vectors.py",
    "time": NOW.strftime("%Y%m%dT%H%M%SZ"),
    "accessKeyID": ACCESS_KEY,
    "secretAccessKey": SECRET_KEY,
    "sessionToken": SESSION_TOKEN,
    "emptySHA256": hashlib.sha256(b"").hexdigest(),
    "requests": requests(),
    "presigned": presigned(),
}
target = pathlib.Path(__file__).with_name("sigv4_botocore.json")
target.write_text(json.dumps(vectors, indent=1, ensure_ascii=False) + "\n")
print(f"wrote {len(vectors['requests'])} signed requests and {len(vectors['presigned'])} presigned URLs to {target}")
