//! How a command run through `pods/exec` ended, read from the `Status` the API server
//! sends on the error channel (3): `Success`, or `Failure` with the exit code in its
//! causes (`NonZeroExitCode`), or the runtime's refusal to start it (`InternalError`,
//! e.g. `executable file not found in $PATH`, 127).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Success,
    /// The command ran and exited with this code.
    Code(i32),
    /// It did not run as asked: the server's words, and the code when it gave one.
    Failed {
        message: String,
        code: Option<i32>,
    },
}

impl Exit {
    pub fn success(&self) -> bool {
        *self == Exit::Success
    }
}

/// The exit of the status sent on the error channel.
pub fn exit_of(status: &Status) -> Exit {
    if status.status.as_deref() == Some("Success") {
        return Exit::Success;
    }
    let code = status
        .details
        .as_ref()
        .and_then(|d| d.causes.as_ref())
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.reason.as_deref() == Some("ExitCode"))
                .and_then(|c| c.message.as_deref()?.trim().parse().ok())
        });
    match (status.reason.as_deref(), code) {
        (Some("NonZeroExitCode"), Some(code)) => Exit::Code(code),
        _ => Exit::Failed {
            message: status
                .message
                .clone()
                .unwrap_or_else(|| "the command failed".into()),
            code,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(json: &str) -> Status {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn success_exit_code_and_runtime_failure() {
        assert_eq!(
            exit_of(&status(r#"{"metadata":{},"status":"Success"}"#)),
            Exit::Success
        );
        let failed = status(
            r#"{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 1], exit code 1","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"1"}]}}"#,
        );
        assert_eq!(exit_of(&failed), Exit::Code(1));
        let missing = status(
            r#"{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [nope], exit code 127: exec: \"nope\": executable file not found in $PATH","reason":"InternalError","details":{"causes":[{"reason":"ExitCode","message":"127"}]}}"#,
        );
        match exit_of(&missing) {
            Exit::Failed { message, code } => {
                assert_eq!(code, Some(127));
                assert!(message.contains("executable file not found"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
