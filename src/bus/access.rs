//! What each command asks of Kubernetes RBAC, so the executor can ask the API server
//! (SelfSubjectAccessReview) before it sends anything, and refuse with a clear message
//! instead of a 403 halfway through.

use super::Command;

/// One `kubectl auth can-i VERB GROUP/RESOURCE[/SUBRESOURCE] NAME -n NAMESPACE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    pub subresource: Option<&'static str>,
    pub namespace: String,
    pub name: String,
}

impl Access {
    /// As `kubectl auth can-i` would be asked, for messages.
    pub fn describe(&self) -> String {
        let resource = match (self.group, self.subresource) {
            ("", None) => self.resource.to_string(),
            ("", Some(sub)) => format!("{}/{sub}", self.resource),
            (g, None) => format!("{}.{g}", self.resource),
            (g, Some(sub)) => format!("{}.{g}/{sub}", self.resource),
        };
        format!(
            "{} {resource} {} -n {}",
            self.verb, self.name, self.namespace
        )
    }
}

fn verb(method: &str) -> &'static str {
    match method {
        "GET" => "get",
        "PUT" => "update",
        "POST" => "create",
        "DELETE" => "delete",
        _ => "patch",
    }
}

impl Command {
    /// The Kubernetes permissions the command needs; empty for commands that do not
    /// go to the Kubernetes API (migrations, Argo CD).
    pub fn access(&self) -> Vec<Access> {
        let one = |verb, group, resource, namespace: &String, name: &String| Access {
            verb,
            group,
            resource,
            subresource: None,
            namespace: namespace.clone(),
            name: name.clone(),
        };
        match self {
            Command::RestartDeployment {
                namespace, name, ..
            }
            | Command::UndoDeployment {
                namespace, name, ..
            } => vec![one("patch", "apps", "deployments", namespace, name)],
            Command::SwitchBlueGreen {
                namespace, service, ..
            } => vec![one("patch", "", "services", namespace, service)],
            Command::Rollout {
                namespace,
                name,
                requests,
                ..
            } => {
                let mut needed: Vec<Access> = Vec::new();
                for r in requests {
                    let access = Access {
                        verb: verb(r.method),
                        subresource: r.subresource,
                        ..one("", "argoproj.io", "rollouts", namespace, name)
                    };
                    if !needed.contains(&access) {
                        needed.push(access);
                    }
                }
                needed
            }
            Command::Migrate { .. }
            | Command::ArgocdRollback { .. }
            | Command::ArgocdSync { .. }
            | Command::ArgocdDisableAutoSync { .. }
            | Command::ArgocdTerminateOperation { .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_needs_patch_on_the_deployment() {
        let c = Command::RestartDeployment {
            env: "prod".into(),
            namespace: "dictamesh-prod".into(),
            name: "metadata-catalog".into(),
            restarted_at: "2026-11-26T10:00:00Z".into(),
        };
        let access = c.access();
        assert_eq!(access.len(), 1);
        assert_eq!(
            access[0].describe(),
            "patch deployments.apps metadata-catalog -n dictamesh-prod"
        );
    }
}
