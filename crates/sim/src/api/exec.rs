//! `pods/exec` as the API server and kubelet serve it to kubectl ≥ 1.30 and kube-rs: the
//! request (`command` repeated, `container`, `stdin`/`stdout`/`stderr`/`tty`) is checked,
//! then the connection is upgraded to a WebSocket speaking `v5.channel.k8s.io` (or
//! `v4.channel.k8s.io`): binary frames whose first byte is the stream (1 stdout, 2 stderr,
//! 3 the final `Status`), then a close. The command runs in the simulated container:
//! broker pods have the Kafka tools (`kafka::tool`); any other command fails as a missing
//! executable does. A request that is not a WebSocket upgrade (SPDY) is refused.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::Shared;
use crate::api::{ApiRequest, error_response};
use crate::kafka::tool::{self, NotFound, Output};
use crate::resources::{PODS, def};
use crate::status::ApiError;

/// The subprotocols served, preferred first.
pub const PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
/// Largest data frame sent (the kubelet streams in pieces too).
const FRAME: usize = 32 * 1024;

const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;

/// Go's `%v` of a string slice: `[a b c]`.
fn go_list(argv: &[String]) -> String {
    format!("[{}]", argv.join(" "))
}

/// The Status the kubelet sends on the error stream when the command ends.
pub fn status(argv: &[String], result: &Result<Output, NotFound>) -> Value {
    let failure = |code: i32, reason: &str, tail: String| {
        json!({"metadata": {}, "status": "Failure",
            "message": format!("command terminated with non-zero exit code: error executing command {}, exit code {code}{tail}", go_list(argv)),
            "reason": reason,
            "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]}})
    };
    match result {
        Ok(o) if o.code == 0 => json!({"metadata": {}, "status": "Success"}),
        Ok(o) => failure(o.code, "NonZeroExitCode", String::new()),
        Err(nf) => failure(
            127,
            "InternalError",
            format!(
                ": exec: \"{}\": executable file not found in $PATH",
                nf.command
            ),
        ),
    }
}

fn bad(message: String) -> Response {
    error_response(&ApiError::bad_request(message))
}

/// Answers one exec request; `ws` is the upgrade when the client asked for a WebSocket.
pub fn serve(shared: Arc<Shared>, req: &ApiRequest, ws: Option<WebSocketUpgrade>) -> Response {
    let name = req.name.clone().unwrap_or_default();
    let ns = req.ns.clone().unwrap_or_default();
    let Some(entry) = shared.store.get(def(PODS), &ns, &name) else {
        return error_response(&ApiError::not_found(def(PODS), &name));
    };
    let pod = entry.value();
    let containers: Vec<String> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let container = match req.query.get("container").filter(|c| !c.is_empty()) {
        Some(c) if containers.iter().any(|x| x == c) => c.to_string(),
        Some(c) => return bad(format!("container {c} is not valid for pod {name}")),
        None if containers.len() == 1 => containers[0].clone(),
        None => {
            return bad(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            ));
        }
    };
    let argv: Vec<String> = req
        .query
        .all("command")
        .into_iter()
        .map(String::from)
        .collect();
    if argv.is_empty() {
        return bad("you must specify at least 1 command".into());
    }
    let (stdout, stderr) = (req.query.flag("stdout"), req.query.flag("stderr"));
    if !req.query.flag("stdin") && !stdout && !stderr {
        return bad("you must specify at least one of stdin, stdout, stderr".into());
    }
    if pod.pointer("/status/phase").and_then(Value::as_str) != Some("Running") {
        return bad(format!(
            "unable to upgrade connection: container not found (\"{container}\")"
        ));
    }
    let Some(ws) = ws else {
        // The API server's answer to an exec that is not a WebSocket upgrade here (SPDY
        // is not served): kubectl ≥ 1.30 asks for the WebSocket first.
        return bad("Upgrade request required".into());
    };
    let offered: Vec<String> = ws
        .requested_protocols()
        .filter_map(|p| p.to_str().ok().map(String::from))
        .collect();
    let ws = ws.protocols(PROTOCOLS);
    if ws.selected_protocol().is_none() {
        return bad(format!(
            "unable to upgrade: unable to negotiate protocol: client supports {}, server supports [{}]",
            go_list(&offered),
            PROTOCOLS.join(" ")
        ));
    }
    let broker = is_broker(&pod, &container);
    let result = tool::run(&shared, broker, &argv);
    let status = status(&argv, &result);
    let output = result.unwrap_or_default();
    ws.on_upgrade(move |socket| async move {
        let _ = send(
            socket,
            stdout.then_some(output.stdout),
            stderr.then_some(output.stderr),
            status,
        )
        .await;
    })
}

/// A Strimzi broker pod's Kafka container, where the tools are.
fn is_broker(pod: &Value, container: &str) -> bool {
    let labels = &pod["metadata"]["labels"];
    container == crate::kafka::CONTAINER
        && labels["strimzi.io/kind"] == "Kafka"
        && labels["strimzi.io/cluster"] == crate::kafka::CLUSTER
        && labels["strimzi.io/broker-role"] == "true"
}

async fn frame(socket: &mut WebSocket, channel: u8, data: &[u8]) -> Result<(), axum::Error> {
    for chunk in data.chunks(FRAME) {
        let mut b = Vec::with_capacity(chunk.len() + 1);
        b.push(channel);
        b.extend_from_slice(chunk);
        socket.send(Message::Binary(Bytes::from(b))).await?;
    }
    Ok(())
}

async fn send(
    mut socket: WebSocket,
    stdout: Option<String>,
    stderr: Option<String>,
    status: Value,
) -> Result<(), axum::Error> {
    if let Some(s) = stdout.filter(|s| !s.is_empty()) {
        frame(&mut socket, STDOUT, s.as_bytes()).await?;
    }
    if let Some(s) = stderr.filter(|s| !s.is_empty()) {
        frame(&mut socket, STDERR, s.as_bytes()).await?;
    }
    frame(
        &mut socket,
        ERROR,
        &serde_json::to_vec(&status).unwrap_or_default(),
    )
    .await?;
    // A normal closure (1000): a close without a code reads as an error to kubectl.
    let normal = CloseFrame {
        code: close_code::NORMAL,
        reason: "".into(),
    };
    socket.send(Message::Close(Some(normal))).await?;
    // Read until the client closes too, so the close handshake completes.
    while let Some(Ok(m)) = socket.recv().await {
        if matches!(m, Message::Close(_)) {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn statuses_as_the_kubelet_writes_them() {
        let a = argv(&["kafka-consumer-groups.sh", "--list"]);
        let ok = Ok(Output::default());
        assert_eq!(
            status(&a, &ok),
            json!({"metadata": {}, "status": "Success"})
        );
        let one = Ok(Output {
            code: 1,
            ..Output::default()
        });
        assert_eq!(
            status(&a, &one),
            json!({"metadata": {}, "status": "Failure",
                "message": "command terminated with non-zero exit code: error executing command [kafka-consumer-groups.sh --list], exit code 1",
                "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": "1"}]}})
        );
        let nf = Err(NotFound {
            command: "ls".into(),
        });
        let s = status(&argv(&["ls", "-l"]), &nf);
        assert_eq!(s["reason"], "InternalError");
        assert_eq!(s["details"]["causes"][0]["message"], "127");
        assert!(
            s["message"]
                .as_str()
                .unwrap()
                .starts_with("command terminated with non-zero exit code: ")
        );
        assert!(
            s["message"]
                .as_str()
                .unwrap()
                .ends_with("exec: \"ls\": executable file not found in $PATH")
        );
    }
}
