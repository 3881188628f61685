//! The unhealthy-version knob: which container images run a version that never passes its
//! readiness probe, crashes and restarts (kubelet's crash loop), answers 503 on its health
//! endpoints and logs errors. An image tag containing `broken` always is; more tags are named
//! with `rollcall sim --unhealthy-image TAG` or at run time with `POST /_sim/unhealthy`.

use std::sync::RwLock;

use serde_json::Value;

/// The image tags (or whole image references) marked unhealthy at run time.
#[derive(Debug, Default)]
pub struct UnhealthyImages(RwLock<Vec<String>>);

impl UnhealthyImages {
    pub fn new(tags: Vec<String>) -> Self {
        UnhealthyImages(RwLock::new(tags))
    }

    pub fn list(&self) -> Vec<String> {
        self.0.read().map(|g| g.clone()).unwrap_or_default()
    }

    pub fn set(&self, tags: Vec<String>) {
        if let Ok(mut g) = self.0.write() {
            *g = tags;
        }
    }

    /// True when any tag is marked (so no cheap byte pre-filter on "broken" is valid).
    pub fn any_marked(&self) -> bool {
        self.0.read().is_ok_and(|g| !g.is_empty())
    }

    /// Whether one image reference (`repo[:tag]`) runs an unhealthy version.
    pub fn image(&self, image: &str) -> bool {
        let tag = image
            .rsplit_once(':')
            .filter(|(_, t)| !t.contains('/'))
            .map(|(_, t)| t);
        if tag.is_some_and(|t| t.contains("broken")) {
            return true;
        }
        self.0
            .read()
            .is_ok_and(|g| g.iter().any(|m| Some(m.as_str()) == tag || m == image))
    }

    /// Whether any container of the pod runs an unhealthy version.
    pub fn pod(&self, pod: &Value) -> bool {
        pod.pointer("/spec/containers")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["image"].as_str().is_some_and(|i| self.image(i)))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn broken_tags_and_marked_tags() {
        let u = UnhealthyImages::default();
        assert!(u.image("ghcr.io/x/app:v1.3.0-broken"));
        assert!(!u.image("ghcr.io/x/app:v1.2.0"));
        assert!(!u.image("localhost:5000/broken-app"));
        u.set(vec!["v1.2.0".into()]);
        assert!(u.any_marked());
        assert!(u.image("ghcr.io/x/app:v1.2.0"));
        assert!(!u.image("ghcr.io/x/app:v1.2.01"));
        let pod = json!({"spec": {"containers": [{"image": "a:v1.1.4"}, {"image": "b:v1.2.0"}]}});
        assert!(u.pod(&pod));
        u.set(vec!["ghcr.io/x/app:v1.1.4".into()]);
        assert!(u.image("ghcr.io/x/app:v1.1.4") && !u.image("other:v1.1.4"));
    }
}
