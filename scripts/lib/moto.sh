# The S3 endpoint of the tests: moto[server] (pinned in Tests/interop/requirements.txt, installed by ensure_venv).
# Source it from the repository root and call start_moto once; both servers stop when the sourcing shell exits.
#
# start_moto starts two moto servers on free loopback ports and exports:
#   SDC_TEST_S3_ENDPOINT       an open S3 endpoint (moto checks no credentials there, so presigned URLs work too)
#   SDC_TEST_S3_AUTH_ENDPOINT  an endpoint that checks every signed request as AWS does (a known access key and a
#                              matching Signature Version 4), for the tests of wrong credentials and of signing, with
#   SDC_TEST_S3_AUTH_ACCESS_KEY_ID, SDC_TEST_S3_AUTH_SECRET_ACCESS_KEY  an access key that it accepts.

_moto_folder=""
_moto_pids=()

# Starts `moto_server` on port 0 (the kernel picks a free port) and, once it answers (at most 30 s), sets the
# variable named by $2 to its URL.
_moto_server() {
  local log=$1 pid url="" attempt
  .venv/bin/moto_server -H 127.0.0.1 -p 0 >"$log" 2>&1 &
  pid=$!
  _moto_pids+=("$pid")
  for attempt in $(seq 1 300); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -n 1 || true)
    if [ -n "$url" ] && curl -sf -o /dev/null "$url/moto-api/data.json"; then
      printf -v "$2" '%s' "$url"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "moto_server did not start; its log ($log):" >&2
  cat "$log" >&2
  return 1
}

# Stops the servers start_moto started (by their process ids) and removes their logs.
stop_moto() {
  local pid
  for pid in "${_moto_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${_moto_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  _moto_pids=()
  [ -z "$_moto_folder" ] || rm -rf "$_moto_folder"
  _moto_folder=""
}

start_moto() {
  _moto_folder=$(mktemp -d)
  # Run stop_moto on exit, before whatever the shell already had to do then.
  local previous
  previous=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
  trap "stop_moto; ${previous}" EXIT

  _moto_server "$_moto_folder/open.log" SDC_TEST_S3_ENDPOINT
  _moto_server "$_moto_folder/auth.log" SDC_TEST_S3_AUTH_ENDPOINT
  # While it still takes anything, create an IAM user allowed everything and an access key, then require signatures.
  local key
  key=$(.venv/bin/python - "$SDC_TEST_S3_AUTH_ENDPOINT" <<'PY'
import json, sys
import boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="setup", aws_secret_access_key="setup")
iam.create_user(UserName="sdc-tests")
iam.put_user_policy(UserName="sdc-tests", PolicyName="everything", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="sdc-tests")["AccessKey"]
print(key["AccessKeyId"], key["SecretAccessKey"])
PY
  )
  read -r SDC_TEST_S3_AUTH_ACCESS_KEY_ID SDC_TEST_S3_AUTH_SECRET_ACCESS_KEY <<<"$key"
  curl -sf -o /dev/null -H "Content-Type: text/plain" --data 0 "$SDC_TEST_S3_AUTH_ENDPOINT/moto-api/reset-auth"
  export SDC_TEST_S3_ENDPOINT SDC_TEST_S3_AUTH_ENDPOINT SDC_TEST_S3_AUTH_ACCESS_KEY_ID SDC_TEST_S3_AUTH_SECRET_ACCESS_KEY
  echo "== moto: S3 at $SDC_TEST_S3_ENDPOINT, with signature checks at $SDC_TEST_S3_AUTH_ENDPOINT"
}
