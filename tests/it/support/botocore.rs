//! The AWS CLI's calls made by botocore (the library the CLI is built on) in one long-lived
//! python process, for a test's own reads and set-up. Each `aws` process pays the CLI's
//! start-up (about 0.4 s of CPU) before its one request; a test that reads back a deployment
//! makes dozens of calls, so they go here instead and cost a request each. The script under
//! test still runs the real `aws`.
//!
//! A call is written as on the command line (`["iam", "get-role", "--role-name", "x"]`) and
//! mapped as the CLI maps it: `s3api` is the `s3` service, the operation and each `--flag`
//! are the API's names in kebab case, a value that is a JSON document is passed parsed,
//! `--body` names a file, and list operations are paginated to the end. The answer is the CLI's JSON document (times
//! as ISO 8601 text); an error is `Err("Code: message")`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use serde_json::{Value, json};

const SCRIPT: &str = r#"
import datetime, json, sys
try:
    import botocore.session
    from botocore.exceptions import ClientError
except ImportError as e:
    sys.exit(f"python3 cannot import botocore ({e}): install the AWS CLI with pip (scripts/test.sh does)")

session = botocore.session.get_session()
clients = {}

def camel(flag):
    return "".join(part[:1].upper() + part[1:] for part in flag.split("-"))

def value(text):
    try:
        return json.loads(text) if text[:1] in "{[" else text
    except ValueError:
        return text

def as_json(o):
    if isinstance(o, (datetime.datetime, datetime.date)):
        return o.isoformat()
    if hasattr(o, "read"):
        return o.read().decode("utf-8", "replace")
    raise TypeError(f"cannot show {type(o).__name__}")

for line in sys.stdin:
    words = json.loads(line)
    service = {"s3api": "s3"}.get(words[0], words[0])
    operation = words[1].replace("-", "_")
    params, rest = {}, words[2:]
    while rest:
        flag = rest.pop(0)
        if not flag.startswith("--") or not rest:
            sys.exit(f"not a --flag VALUE pair: {flag!r} in {words!r}")
        name, text = camel(flag[2:]), rest.pop(0)
        # As the CLI reads it: an object body is the file of that name.
        params[name] = open(text, "rb").read() if name == "Body" else value(text)
    client = clients.get(service) or clients.setdefault(service, session.create_client(service))
    try:
        if client.can_paginate(operation):
            answer = client.get_paginator(operation).paginate(**params).build_full_result()
        else:
            answer = getattr(client, operation)(**params)
        answer.pop("ResponseMetadata", None)
        out = {"ok": answer}
    except ClientError as e:
        error = e.response.get("Error", {})
        out = {"error": f"{error.get('Code')}: {error.get('Message')}"}
    sys.stdout.write(json.dumps(out, default=as_json) + "\n")
    sys.stdout.flush()
"#;

pub struct Botocore {
    io: Mutex<(ChildStdin, BufReader<ChildStdout>)>,
    child: Child,
}

impl Botocore {
    /// Starts the process from `python3`, a command whose environment (credentials, region,
    /// endpoint) is that of the `aws` processes it stands in for.
    pub fn start(mut python3: Command) -> Botocore {
        let mut child = python3
            .args(["-c", SCRIPT])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3 for botocore");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Botocore {
            io: Mutex::new((stdin, stdout)),
            child,
        }
    }

    /// The call's JSON answer, or the error AWS (moto) answered.
    pub fn call(&self, args: &[&str]) -> Result<Value, String> {
        let mut io = self.io.lock().unwrap();
        let (stdin, stdout) = &mut *io;
        let request = json!(args).to_string() + "\n";
        let mut line = String::new();
        let answered = stdin.write_all(request.as_bytes()).is_ok()
            && stdin.flush().is_ok()
            && stdout.read_line(&mut line).is_ok_and(|n| n > 0);
        assert!(
            answered,
            "the botocore process stopped (its error is above) at aws {}",
            args.join(" ")
        );
        let answer: Value = serde_json::from_str(&line).expect("botocore answers JSON lines");
        match answer.get("error") {
            Some(error) => Err(error.as_str().unwrap_or_default().to_string()),
            None => Ok(answer["ok"].clone()),
        }
    }
}

impl Drop for Botocore {
    fn drop(&mut self) {
        // Only this process's own child, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
